"""Every notebook in notebooks/ executes headless with `bpfbook run` (exit 0), and the
executed copy and an HTML report land in test/output/."""
import glob
import os
import subprocess
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "test", "output", "notebooks")


class NotebookRuns(unittest.TestCase):
    def test_notebooks_run_headless(self):
        os.makedirs(OUT, exist_ok=True)
        books = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))
        self.assertTrue(books, "no notebooks")
        for nb in books:
            name = os.path.splitext(os.path.basename(nb))[0]
            with self.subTest(notebook=name):
                p = subprocess.run(
                    ["node", os.path.join(ROOT, "dist", "bpf-lib", "src", "cli", "main.js"), "run", nb,
                     "-o", os.path.join(OUT, name + ".ipynb"), "--html", os.path.join(OUT, name + ".html"), "--timeout", "300",
                     # static images are test/publish.test.ts's; a browser per notebook here costs ~10 s each
                     "--no-images"],
                    capture_output=True, text=True, timeout=900,
                )
                self.assertEqual(p.returncode, 0, f"{name} failed:\n{p.stderr[-4000:]}")

    def test_failing_notebook_exits_nonzero_naming_the_cell(self):
        import nbformat

        nb = nbformat.v4.new_notebook()
        nb.metadata = {"kernelspec": {"name": "bpfbook", "display_name": "TypeScript (eBPF)", "language": "typescript"}}
        nb.cells = [nbformat.v4.new_code_cell("const a = 1"), nbformat.v4.new_code_cell('throw new Error("cell two fails")'), nbformat.v4.new_code_cell("a")]
        os.makedirs(OUT, exist_ok=True)
        path = os.path.join(OUT, "failing.ipynb")
        nbformat.write(nb, path)
        p = subprocess.run(["node", os.path.join(ROOT, "dist", "bpf-lib", "src", "cli", "main.js"), "run", path], capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 1)
        self.assertIn("cell 2 failed", p.stderr)
        self.assertIn("cell two fails", p.stderr)


if __name__ == "__main__":
    unittest.main()
