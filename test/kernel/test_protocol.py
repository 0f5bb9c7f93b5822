"""Protocol tests of the bpfbook kernel through a real client (Debian's jupyter_client):
signatures, interrupts (await, busy loop, a running trace), output ordering, restart,
comms, stdin. Run with /usr/bin/python3 -m unittest."""
import json
import os
import re
import subprocess
import time
import unittest
import uuid

from jupyter_client.manager import start_new_kernel

TIMEOUT = 60


def bpf_program_ids():
    out = subprocess.run(["bpftool", "prog", "show", "--json"], capture_output=True, text=True, check=True).stdout
    return {p["id"] for p in json.loads(out)}


def programs_of(pid):
    """IDs of the BPF programs a process holds (from /proc/PID/fdinfo)."""
    ids = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") != "anon_inode:bpf-prog":
                continue
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                m = re.search(r"^prog_id:\s*(\d+)$", f.read(), re.M)
            if m:
                ids.add(int(m.group(1)))
        except OSError:
            pass
    return ids


class Run:
    """Executes code and collects every iopub message of that request until idle."""

    def __init__(self, kc, code, allow_stdin=False, stdin_answer=None, after=None):
        self.msg_id = kc.execute(code, allow_stdin=allow_stdin)
        if after:
            after()
        if stdin_answer is not None:
            req = kc.get_stdin_msg(timeout=TIMEOUT)
            self.input_request = req
            kc.input(stdin_answer)
        self.reply = kc.get_shell_msg(timeout=TIMEOUT)
        while self.reply["parent_header"].get("msg_id") != self.msg_id:
            self.reply = kc.get_shell_msg(timeout=TIMEOUT)
        self.outputs = []
        while True:
            m = kc.get_iopub_msg(timeout=TIMEOUT)
            if m["parent_header"].get("msg_id") != self.msg_id:
                continue
            self.outputs.append(m)
            if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                break

    @property
    def status(self):
        return self.reply["content"]["status"]

    def of(self, msg_type):
        return [m for m in self.outputs if m["msg_type"] == msg_type]

    def text(self):
        return "".join(m["content"]["text"] for m in self.of("stream"))

    def result(self):
        r = self.of("execute_result")
        return r[0]["content"]["data"]["text/plain"] if r else None


class ProtocolTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.km, cls.kc = start_new_kernel(kernel_name="bpfbook", startup_timeout=TIMEOUT)

    @classmethod
    def tearDownClass(cls):
        cls.kc.stop_channels()
        cls.km.shutdown_kernel(now=False)

    def run_code(self, code, **kw):
        return Run(self.kc, code, **kw)

    def test_kernel_info_has_status_and_language(self):
        self.kc.kernel_info()
        reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertEqual(reply["content"]["language_info"]["name"], "typescript")
        self.assertEqual(reply["content"]["language_info"]["file_extension"], ".ts")

    def test_bad_signature_is_ignored(self):
        kc = self.kc
        msg = kc.session.msg("execute_request", {"code": "globalThis.hacked = 1", "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
        frames = kc.session.serialize(msg)
        i = frames.index(b"<IDS|MSG>")
        frames[i + 1] = b"0" * 64  # a wrong signature
        kc.shell_channel.socket.send_multipart(frames)
        time.sleep(1.0)
        r = self.run_code("typeof (globalThis as any).hacked")
        self.assertEqual(r.result(), "'undefined'", "a message with a bad signature must never run")

    def test_output_comes_before_idle_and_in_order(self):
        r = self.run_code('for (let i = 0; i < 5; i++) console.log("line " + i);\ndisplay("shown");\nconsole.log("after");\n42')
        self.assertEqual(r.status, "ok")
        types = [m["msg_type"] for m in r.outputs]
        self.assertEqual(types[0], "status")
        self.assertEqual(types[1], "execute_input")
        self.assertEqual(types[-1], "status")
        self.assertIn("execute_result", types)
        self.assertLess(types.index("display_data"), types.index("execute_result"))
        text = r.text()
        self.assertTrue(text.startswith("line 0\nline 1\nline 2\nline 3\nline 4\n"), text)
        self.assertTrue(text.endswith("after\n"))
        # nothing of this request arrives after idle
        time.sleep(0.5)
        while True:
            try:
                m = self.kc.get_iopub_msg(timeout=0.2)
            except Exception:
                break
            self.assertNotEqual(m["parent_header"].get("msg_id"), r.msg_id, f"late message {m['msg_type']}")

    def test_errors_have_ename_evalue_traceback_with_cell_lines(self):
        r = self.run_code('const ok = 1;\n\nthrow new RangeError("too far")')
        self.assertEqual(r.status, "error")
        err = r.of("error")[0]["content"]
        self.assertEqual(err["ename"], "RangeError")
        self.assertEqual(err["evalue"], "too far")
        self.assertTrue(any("line 3" in line for line in err["traceback"]), err["traceback"])

    def test_type_errors_are_errors_and_nothing_runs(self):
        r = self.run_code('const n: number = "no";\nconsole.log("ran")')
        self.assertEqual(r.status, "error")
        self.assertEqual(r.text(), "")
        tb = "\n".join(r.of("error")[0]["content"]["traceback"])
        self.assertIn("line 1", tb)

    def test_redeclaring_in_a_rerun_cell(self):
        self.assertEqual(self.run_code("const re = 1; re").result(), "1")
        self.assertEqual(self.run_code("const re = 2; re").result(), "2")

    def test_interrupt_a_long_await(self):
        self.run_code("const kept = 41")
        r = self.run_code("await new Promise(() => {})", after=lambda: (time.sleep(1.0), self.km.interrupt_kernel()))
        self.assertEqual(r.status, "error")
        self.assertEqual(r.reply["content"]["ename"], "KeyboardInterrupt")
        self.assertEqual(self.run_code("kept + 1").result(), "42")

    def test_interrupt_a_busy_loop(self):
        self.run_code("let spun = 0")
        r = self.run_code("while (true) { spun++ }", after=lambda: (time.sleep(1.0), self.km.interrupt_kernel()))
        self.assertEqual(r.status, "error")
        self.assertEqual(r.reply["content"]["ename"], "KeyboardInterrupt")
        self.assertEqual(self.run_code("spun > 0").result(), "true")

    def test_interrupt_a_collection_detaches_and_keeps_rows(self):
        pid = self.km.provisioner.process.pid
        code = 'import { tracepoint, partialResults } from "bpfbook";\nconst t = await tracepoint("syscalls:sys_enter_getppid").collect({ seconds: 120 })'
        r = self.run_code(code, after=lambda: (time.sleep(2.0), self.km.interrupt_kernel()))
        self.assertEqual(r.status, "error")
        self.assertEqual(r.reply["content"]["ename"], "KeyboardInterrupt")
        # one account of what happened: the trace is stopped and detached, nothing of it runs on
        self.assertRegex(r.text(), r"interrupted: 1 trace stopped and detached; \d+ rows kept in partialResults\(\)")
        self.assertEqual(r.reply["content"]["evalue"], "the cell was interrupted while waiting: its bpfbook traces are stopped; other work it started (timers, child processes, pending promises) is not cancelled and may still run")
        res = self.run_code('import { partialResults } from "bpfbook";\npartialResults().length + " " + partialResults()[0].stats.stoppedBy')
        self.assertEqual(res.result(), "'1 interrupt'", res.outputs)
        # The kernel's own programs (other processes may load programs meanwhile).
        self.assertEqual(programs_of(pid), set(), "no program left after the interrupt")

    def test_comm_round_trip(self):
        kc = self.kc
        comm_id = uuid.uuid4().hex
        kc.shell_channel.send(kc.session.msg("comm_open", {"comm_id": comm_id, "target_name": "bpfbook.echo", "data": {}}))
        kc.shell_channel.send(kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {"ping": 1}}))
        deadline = time.time() + TIMEOUT
        echoed = None
        while time.time() < deadline and echoed is None:
            m = kc.get_iopub_msg(timeout=TIMEOUT)
            if m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == comm_id:
                echoed = m["content"]["data"]
        self.assertEqual(echoed, {"ping": 1})
        kc.comm_info()
        info = kc.get_shell_msg(timeout=TIMEOUT)
        while info["msg_type"] != "comm_info_reply":
            info = kc.get_shell_msg(timeout=TIMEOUT)
        self.assertIn(comm_id, info["content"]["comms"])

    def test_input_request(self):
        r = self.run_code('const name = await input("name? ");\n"hello " + name', allow_stdin=True, stdin_answer="ebpf")
        self.assertEqual(r.input_request["content"]["prompt"], "name? ")
        self.assertEqual(r.result(), "'hello ebpf'")

    def test_live_display_updates(self):
        r = self.run_code('const h = display("v1");\nawait new Promise(r => setTimeout(r, 50));\nh.update("v2")')
        self.assertEqual(len(r.of("display_data")), 1)
        upd = r.of("update_display_data")
        self.assertEqual(len(upd), 1)
        self.assertEqual(upd[0]["content"]["transient"]["display_id"], r.of("display_data")[0]["content"]["transient"]["display_id"])

    def test_zz_restart(self):
        self.run_code("const beforeRestart = 1")
        self.km.restart_kernel(now=False)
        self.kc.wait_for_ready(timeout=TIMEOUT)
        r = self.run_code("beforeRestart")
        self.assertEqual(r.status, "error", "state is gone after a restart")
        self.assertIn("beforeRestart", "\n".join(r.reply["content"]["traceback"]))
        self.assertEqual(self.run_code("1 + 1").reply["content"]["execution_count"], 2)


if __name__ == "__main__":
    unittest.main()
