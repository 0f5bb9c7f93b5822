"""Executes a notebook headless with the bpfbook kernel (nbclient), for `bpfbook run`.

Exit status: 0 when every cell ran, 1 on the first failing cell (named, with its
error), 2 on bad usage. Progress goes to stderr, one line per cell.
"""
import argparse
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def main() -> int:
    ap = argparse.ArgumentParser(prog="bpfbook run")
    ap.add_argument("notebook")
    ap.add_argument("-o", "--output")
    ap.add_argument("--html")
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--kernel", default="bpfbook")
    a = ap.parse_args()

    nb = nbformat.read(a.notebook, as_version=4)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    started = {}

    def on_start(cell, cell_index):
        if cell.cell_type != "code":
            return
        started[cell_index] = time.monotonic()
        n = code_cells.index(cell_index) + 1 if cell_index in code_cells else 0
        first = (cell.source.strip().splitlines() or [""])[0][:70]
        print(f"[{n}/{len(code_cells)}] cell {cell_index + 1}: {first}", file=sys.stderr, flush=True)

    def on_done(cell, cell_index, execute_reply):
        if cell.cell_type != "code":
            return
        took = time.monotonic() - started.get(cell_index, time.monotonic())
        print(f"        done in {took:.1f} s", file=sys.stderr, flush=True)

    client = NotebookClient(
        nb,
        kernel_name=a.kernel,
        timeout=a.timeout,
        allow_errors=False,
        resources={"metadata": {"path": __import__("os").path.dirname(__import__("os").path.abspath(a.notebook))}},
        on_cell_start=on_start,
        on_cell_executed=on_done,
    )
    status = 0
    try:
        client.execute()
    except CellExecutionError as e:
        failing = next((i for i in code_cells if nb.cells[i].get("outputs") and any(o.get("output_type") == "error" for o in nb.cells[i].outputs)), None)
        where = f"cell {failing + 1}" if failing is not None else "a cell"
        print(f"\nbpfbook run: {a.notebook}: {where} failed:\n{e}", file=sys.stderr)
        status = 1
    except (CellTimeoutError, DeadKernelError) as e:
        print(f"\nbpfbook run: {a.notebook}: {type(e).__name__}: {e}", file=sys.stderr)
        status = 1
    if a.output:
        nbformat.write(nb, a.output)
        print(f"wrote {a.output}", file=sys.stderr)
    if a.html:
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter().from_notebook_node(nb)
        with open(a.html, "w", encoding="utf-8") as f:
            f.write(body)
        print(f"wrote {a.html}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
