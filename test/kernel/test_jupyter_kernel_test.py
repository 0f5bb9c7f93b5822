"""jupyter_kernel_test (Debian's python3-jupyter-kernel-test) against the bpfbook kernel,
with every test it has enabled. Run with /usr/bin/python3 -m unittest."""
import unittest

import jupyter_kernel_test as jkt


class BpfbookKernelTests(jkt.KernelTests):
    kernel_name = "bpfbook"
    language_name = "typescript"
    file_extension = ".ts"

    code_hello_world = 'console.log("hello, world")'
    code_stderr = 'console.error("some error")'

    completion_samples = [
        {"text": "const zzValue = 1; zzVa", "matches": {"zzValue"}},
    ]

    complete_code_samples = ["1 + 1", "const a = 2;", "function f() { return 1 }", "for (const x of [1]) {}"]
    incomplete_code_samples = ["function f() {", "const s = `abc", "[1, 2,", "if (true) {"]
    invalid_code_samples = ["const = 5", "x = )", "1 +* 2"]

    code_page_something = "help(Math.max)"

    code_generate_error = 'throw new Error("boom")'

    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": '"a" + "b"', "result": "'ab'"},
        {"code": "[1, 2].map(x => x * 2)", "result": "[ 2, 4 ]"},
    ]

    code_display_data = [
        {"code": 'display({ [Symbol.for("Jupyter.display")]: () => ({ "text/html": "<b>hi</b>" }) })', "mime": "text/html"},
        {"code": 'display("plain")', "mime": "text/plain"},
    ]

    code_history_pattern = "6 * 7"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "Math.max"

    code_clear_output = "clearOutput()"


if __name__ == "__main__":
    unittest.main()
