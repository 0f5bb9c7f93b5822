"""The kernel survives user code and leaves nothing attached: errors no cell awaited
(timers, unhandled rejections, throwing bpfbook callbacks) are reported in the cell
and the kernel goes on; replayed messages are dropped; interrupting a synchronous
loop after start() (with and without an await first) detaches the trace; a kernel
whose launcher is killed with -9 exits and releases its programs.
Run with /usr/bin/python3 test/kernel/test_robustness.py -v."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from jupyter_client import BlockingKernelClient
from jupyter_client.manager import start_new_kernel

sys.path.insert(0, os.path.dirname(__file__))
from test_protocol import Run, bpf_program_ids, programs_of  # noqa: E402

TIMEOUT = 60
HERE = os.path.dirname(os.path.abspath(__file__))


def exited(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def until(cond, seconds=5.0):
    end = time.time() + seconds
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def late_error(kc, msg_id, seconds=10.0):
    """The first error output with this parent that arrives (after the request's idle, too)."""
    end = time.time() + seconds
    while time.time() < end:
        try:
            m = kc.get_iopub_msg(timeout=max(0.1, end - time.time()))
        except Exception:
            break
        if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "error":
            return m["content"]
    return None


class RobustnessTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.km, cls.kc = start_new_kernel(kernel_name=os.environ.get("BPFBOOK_KERNEL", "bpfbook"), startup_timeout=TIMEOUT)
        cls.pid = cls.km.provisioner.process.pid
        Run(cls.kc, 'import { tracepoint } from "bpfbook";')

    @classmethod
    def tearDownClass(cls):
        cls.kc.stop_channels()
        cls.km.shutdown_kernel(now=False)

    def run_code(self, code, **kw):
        return Run(self.kc, code, **kw)

    def assert_alive_and_working(self):
        self.assertTrue(self.km.is_alive(), "the kernel process is alive")
        self.assertEqual(self.run_code("6 * 7").result(), "42", "the next cell works")

    def assert_holds_nothing(self):
        self.assertTrue(until(lambda: programs_of(self.pid) == set()), f"the kernel still holds programs {programs_of(self.pid)}")

    def test_timer_throw_is_reported_in_its_cell(self):
        r = self.run_code('setTimeout(() => {\n  throw new Error("from a timer");\n}, 50);\n1')
        self.assertEqual(r.status, "ok")
        err = late_error(self.kc, r.msg_id)
        self.assertIsNotNone(err, "an error output for the cell that set the timer")
        self.assertEqual((err["ename"], err["evalue"]), ("Error", "from a timer"))
        n = r.reply["content"]["execution_count"]
        self.assertIn(f"Cell In[{n}], line 2", "\n".join(err["traceback"]))
        self.assert_alive_and_working()

    def test_unhandled_rejection_is_reported_in_its_cell(self):
        r = self.run_code('Promise.reject(new RangeError("nobody listens"));\n1')
        err = late_error(self.kc, r.msg_id)
        self.assertIsNotNone(err)
        self.assertEqual((err["ename"], err["evalue"]), ("RangeError", "nobody listens"))
        self.assert_alive_and_working()

    def test_throwing_callbacks_reject_and_release(self):
        r = self.run_code('await tracepoint("syscalls:sys_enter_getppid").count({ by: ["pid"] }).collect({ seconds: 0.2, onInterval: () => { throw new Error("final onInterval") } })')
        self.assertEqual(r.status, "error")
        self.assertEqual(r.reply["content"]["evalue"], "final onInterval")
        # Not awaited: the rejection is reported, the trace released.
        r = self.run_code('void tracepoint("syscalls:sys_enter_getppid", { fields: [] }).collect({ seconds: 30, progressMs: 50, onProgress: () => { throw new Error("onProgress") } }); 1')
        err = late_error(self.kc, r.msg_id)
        self.assertIsNotNone(err)
        self.assertEqual(err["evalue"], "onProgress")
        self.assert_holds_nothing()
        self.assert_alive_and_working()

    def test_replayed_message_runs_once(self):
        self.run_code("(globalThis as any).replays = 0")
        msg = self.kc.session.msg("execute_request", {"code": "(globalThis as any).replays++", "silent": True, "store_history": False, "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
        frames = self.kc.session.serialize(msg)
        for _ in range(5):
            self.kc.shell_channel.socket.send_multipart(frames)
        time.sleep(1.5)
        self.assertEqual(self.run_code("(globalThis as any).replays").result(), "1")

    def interrupt_spin(self, code):
        before = programs_of(self.pid)
        attached = []
        r = self.run_code(code, after=lambda: (attached.append(until(lambda: len(programs_of(self.pid)) > len(before), 30)), time.sleep(1.0), self.km.interrupt_kernel()))
        self.assertEqual(attached, [True], "the cell attached its trace before the interrupt")
        self.assertEqual(r.status, "error")
        self.assertEqual(r.reply["content"]["ename"], "KeyboardInterrupt")
        self.assert_holds_nothing()
        self.assert_alive_and_working()

    def test_interrupt_sync_spin_after_start(self):
        self.interrupt_spin('const t1 = tracepoint("syscalls:sys_enter_getppid", { fields: [] }).start();\nwhile (true) {}')

    def test_interrupt_sync_spin_after_start_and_await(self):
        self.interrupt_spin('const t2 = tracepoint("syscalls:sys_enter_getppid", { fields: [] }).start();\nawait new Promise((r) => setTimeout(r, 50));\nwhile (true) {}')

    def test_interrupt_during_cleanup_of_a_full_ring(self):
        # The cell spins with a busy workload traced into a large ring: the pump cannot run,
        # so the ring is full when the interrupt stops the trace, and draining it (the
        # kernel's own cleanup) blocks the event loop for a while; the interrupter must
        # not terminate that.
        workload = os.path.join(HERE, "..", "fixtures", "build", "workload")
        code = (
            'import { spawn } from "node:child_process";\n'
            f'const w = spawn({json.dumps(os.path.abspath(workload))}, ["--now", "getppid", "30000000"], {{ stdio: "ignore" }});\n'
            "(globalThis as any).busy = w;\n"
            'const big = tracepoint("syscalls:sys_enter_getppid", { where: { pid: w.pid! }, bufferBytes: 256 * 1024 * 1024 }).start();\n'
            "while (true) {}"
        )
        before = programs_of(self.pid)
        attached = []
        t0 = time.time()
        r = self.run_code(code, after=lambda: (attached.append(until(lambda: len(programs_of(self.pid)) > len(before), 30)), time.sleep(4.0), self.km.interrupt_kernel()))
        print(f"reply {time.time() - t0:.1f} s after execute (interrupt at ~4 s after attach)", file=sys.stderr)
        self.assertEqual(attached, [True], "the cell attached its trace before the interrupt")
        self.assertEqual(r.status, "error")
        self.assertEqual(r.reply["content"]["ename"], "KeyboardInterrupt")
        self.assert_holds_nothing()
        self.assert_alive_and_working()
        last = self.run_code('import { partialResults } from "bpfbook";\n(globalThis as any).busy.kill();\nconst kept = partialResults();\nconst s = (kept[0] as unknown as { stats: { received: number; lost: number; produced: number; stoppedBy: string } }).stats;\nconsole.log(JSON.stringify([kept.length, kept[0].numRows() === s.received, s.received + s.lost === s.produced, s.received > 100_000, s.stoppedBy, s.received, s.lost]))')
        print(f"kept: {last.text().strip()}", file=sys.stderr)
        self.assertEqual(json.loads(last.text())[:5], [1, True, True, True, "interrupt"], "the full ring's rows were kept, and every event is accounted for")


class LauncherKillTests(unittest.TestCase):
    def launch(self, *extra):
        """Starts launcher.py (a stand-in notebook server); returns (launcher, kernel pid, a client whose kernel answers)."""
        tmp = tempfile.mkdtemp(prefix="bpfbook-launcher-")
        launcher = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "launcher.py"), os.path.join(tmp, "kernel.json"), *extra], stdout=subprocess.PIPE, text=True)
        self.addCleanup(self.cleanup, launcher)
        kernel_pid, path = launcher.stdout.readline().split()
        self.kernel_pid = int(kernel_pid)
        kc = BlockingKernelClient(connection_file=path)
        kc.load_connection_file()
        kc.start_channels()
        self.assertTrue(self.answers(kc, TIMEOUT), "the kernel answers kernel_info")
        return launcher, self.kernel_pid, kc

    @staticmethod
    def answers(kc, seconds):
        # Not wait_for_ready: without a manager it reads a heartbeat not yet bound as "died".
        for _ in range(seconds):
            kc.kernel_info()
            try:
                if kc.get_shell_msg(timeout=1)["msg_type"] == "kernel_info_reply":
                    return True
            except Exception:
                continue
        return False

    def cleanup(self, launcher):
        launcher.stdout.close()
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
        pid = getattr(self, "kernel_pid", None)
        if pid and os.path.exists(f"/proc/{pid}"):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def test_kernel_exits_when_its_launcher_is_killed(self):
        launcher, kernel_pid, kc = self.launch()
        r = Run(kc, 'import { tracepoint } from "bpfbook";\nconst held = tracepoint("syscalls:sys_enter_getppid", { fields: [] }).start();\nheld.links.length')
        self.assertEqual(r.result(), "1")
        held = programs_of(kernel_pid)
        self.assertEqual(len(held), 1, "the kernel holds its program")
        kc.stop_channels()
        launcher.send_signal(signal.SIGKILL)
        launcher.wait()
        t0 = time.time()
        self.assertTrue(until(lambda: exited(kernel_pid), 6), "the kernel exited")
        self.assertTrue(until(lambda: not (held & bpf_program_ids()), 3), f"programs left loaded: {held & bpf_program_ids()}")
        print(f"kernel gone {time.time() - t0:.2f} s after the launcher's kill -9", file=sys.stderr)

    def test_stale_jpy_parent_pid_is_not_watched(self):
        # A pid that existed and is gone (reaped): what a stale JPY_PARENT_PID looks like.
        dead = subprocess.Popen(["/bin/true"])
        dead.wait()
        self.assertFalse(os.path.exists(f"/proc/{dead.pid}"))
        launcher, kernel_pid, kc = self.launch(str(dead.pid))
        time.sleep(1.5)  # six polls of the parent watch
        self.assertFalse(exited(kernel_pid), "the kernel keeps running")
        self.assertEqual(Run(kc, "40 + 2").result(), "42")
        kc.stop_channels()
        # The launcher, its real parent, is still watched.
        launcher.send_signal(signal.SIGKILL)
        launcher.wait()
        self.assertTrue(until(lambda: exited(kernel_pid), 6), "the kernel exited with its launcher")


if __name__ == "__main__":
    unittest.main()
