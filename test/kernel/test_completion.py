"""Completion and help() through a real client (Debian's jupyter_client) against the installed "bpfbook"
kernelspec: inside strings, completion offers only the names that start with what was typed (tracepoints,
their fields, kernel functions, a binary's symbols, interfaces) and replaces exactly that text; identifiers
and option keys still complete; help(X) pages X's signature and doc comment, not its compiled source.
Run with /usr/bin/python3 -m unittest."""
import os
import time
import unittest

from jupyter_client.manager import start_new_kernel

TIMEOUT = 60
TRACEFS = "/sys/kernel/tracing/events"


def tracepoints():
    """Every group:name under tracefs, as the kernel lists them (ftrace's own formats are not tracepoints)."""
    out = set()
    for group in os.listdir(TRACEFS):
        path = os.path.join(TRACEFS, group)
        if group == "ftrace" or not os.path.isdir(path):
            continue
        out.update(f"{group}:{e}" for e in os.listdir(path) if os.path.isdir(os.path.join(path, e)))
    return out


class CompletionTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.km, cls.kc = start_new_kernel(kernel_name="bpfbook", startup_timeout=TIMEOUT)
        cls.execute('import { tracepoint, kprobe, uprobe, xdp } from "bpfbook";\nconst abc = 1;')

    @classmethod
    def tearDownClass(cls):
        cls.kc.stop_channels()
        cls.km.shutdown_kernel(now=True)

    @classmethod
    def execute(cls, code):
        msg_id = cls.kc.execute(code)
        while True:
            reply = cls.kc.get_shell_msg(timeout=TIMEOUT)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        assert reply["content"]["status"] == "ok", reply["content"]
        return reply["content"]

    def complete(self, marked):
        """complete_request at the `|` of `marked`; returns (reply content, code without the marker)."""
        pos = marked.index("|")
        code = marked[:pos] + marked[pos + 1:]
        msg_id = self.kc.complete(code, pos)
        while True:
            reply = self.kc.get_shell_msg(timeout=TIMEOUT)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"], code

    def replaced(self, marked):
        """The reply, and the text its cursor_start..cursor_end covers."""
        c, code = self.complete(marked)
        self.assertEqual(c["status"], "ok")
        return c, code[c["cursor_start"]:c["cursor_end"]]

    def test_tracepoint_names_start_with_the_typed_prefix(self):
        c, covered = self.replaced('tracepoint("sys|')
        self.assertEqual(covered, "sys")
        starting = {t for t in tracepoints() if t.startswith("sys")}
        containing = {t for t in tracepoints() if "sys" in t.lower()}
        # names starting with "sys" come first (then those containing it); at most 200 are sent
        self.assertEqual(len(c["matches"]), min(200, len(containing)))
        self.assertTrue(all(m.startswith("sys") for m in c["matches"][:len(starting)]), c["matches"][:5])
        self.assertEqual(c["metadata"]["bpfbook.total"], len(containing))

    def test_tracepoint_names_are_exactly_those_of_tracefs(self):
        c, covered = self.replaced('tracepoint("syscalls:sys_enter_opena|')
        self.assertEqual(covered, "syscalls:sys_enter_opena")
        self.assertEqual(set(c["matches"]), {t for t in tracepoints() if t.startswith("syscalls:sys_enter_opena")})

    def test_a_name_inside_a_literal_is_replaced_whole(self):
        c, covered = self.replaced('tracepoint("syscalls:sys_enter_opena|t", {})')
        self.assertEqual(covered, "syscalls:sys_enter_openat")
        self.assertEqual(c["matches"], ["syscalls:sys_enter_openat", "syscalls:sys_enter_openat2"])

    def test_field_names(self):
        c, covered = self.replaced('tracepoint("syscalls:sys_enter_openat", { fields: ["fil|"] })')
        self.assertEqual(covered, "fil")
        self.assertEqual(c["matches"], ["filename"])

    def test_option_keys(self):
        c, covered = self.replaced('tracepoint("syscalls:sys_enter_openat", { whe| })')
        self.assertEqual(covered, "whe")
        self.assertEqual(c["matches"], ["where"])

    def test_kernel_functions(self):
        c, covered = self.replaced('kprobe("vfs_rea|')
        self.assertEqual(covered, "vfs_rea")
        self.assertIn("vfs_read", c["matches"])
        self.assertIn("vfs_readv", c["matches"])
        self.assertTrue(all(m.startswith("vfs_rea") for m in c["matches"]), c["matches"])
        self.assertEqual(c["metadata"]["_jupyter_types_experimental"][0]["type"], "kernel function")

    def test_uprobe_symbols_of_the_binary(self):
        c, covered = self.replaced('uprobe("/bin/bash", "readl|')
        self.assertEqual(covered, "readl")
        self.assertEqual(c["matches"][0], "readline")

    def test_interfaces(self):
        c, covered = self.replaced('xdp("l|')
        self.assertEqual(covered, "l")
        self.assertEqual(c["matches"][0], "lo")
        self.assertEqual(set(c["matches"]), {i for i in os.listdir("/sys/class/net") if "l" in i.lower()})

    def test_identifiers_still_complete(self):
        c, covered = self.replaced("Mat|")
        self.assertEqual(covered, "Mat")
        self.assertEqual(c["matches"][0], "Math")
        c, covered = self.replaced("ab|")
        self.assertEqual(covered, "ab")
        self.assertEqual(c["matches"][0], "abc")

    def test_second_completions_are_fast(self):
        for marked in ('kprobe("vfs_rea|', 'tracepoint("sys|', 'uprobe("/bin/bash", "readl|'):
            self.complete(marked)  # the first reads the lists
            t0 = time.monotonic()
            self.complete(marked)
            self.assertLess(time.monotonic() - t0, 0.5, marked)

    def test_help_pages_signature_and_doc(self):
        reply = self.execute("help(tracepoint)")
        pages = [p["data"]["text/plain"] for p in reply.get("payload", []) if p.get("source") == "page"]
        self.assertEqual(len(pages), 1, reply.get("payload"))
        page = pages[0]
        self.assertIn("tracepoint<", page)
        self.assertIn('A tracepoint of the running kernel, by "group:name"', page)
        self.assertNotIn("function (", page)
        self.assertNotRegex(page, r"\breturn\b")

    def test_help_of_a_probe_shows_its_type_and_methods(self):
        reply = self.execute('const p = tracepoint("syscalls:sys_enter_openat");\nhelp(p)')
        page = [p["data"]["text/plain"] for p in reply["payload"] if p.get("source") == "page"][0]
        self.assertTrue(page.startswith('const p: TracepointProbe<"syscalls:sys_enter_openat"'), page[:200])
        self.assertIn("\nMembers:\n", page)
        self.assertIn("  collect(opts: CollectOptions)", page)
        self.assertNotIn("#", page)

    def test_help_of_a_users_function(self):
        reply = self.execute("/** Doubles it. */\nfunction twice(n: number) { return 2 * n; }\nhelp(twice)")
        page = [p["data"]["text/plain"] for p in reply["payload"] if p.get("source") == "page"][0]
        self.assertEqual(page, "function twice(n: number): number\n\nDoubles it.")


if __name__ == "__main__":
    unittest.main()
