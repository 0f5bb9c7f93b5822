"""The Jupyter half of `bpfbook run` (kernel/run.ts drives it; Debian's nbformat, nbclient
and nbconvert).

  run_notebook.py execute NB --output OUT [--timeout S] [--kernel NAME]
      Executes NB headless with the bpfbook kernel and writes the executed notebook to OUT,
      also when a cell failed. Exit status: 0 when every cell ran, 1 on the first failing
      cell (named, with its error). Progress goes to stderr, one line per cell.

  run_notebook.py finish NB [--output OUT] [--sign] [--html HTML]
      Writes NB (the published notebook run.ts made) as OUT in nbformat's own layout,
      signs OUT (Jupyter's notebook trust) and exports NB as HTML.
"""
import argparse
import os
import pwd
import subprocess
import sys
import time

import nbformat


def execute(a) -> int:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

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
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(a.notebook))}},
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
    nbformat.write(nb, a.output)
    return status


def sign(path: str) -> None:
    """Trusts `path` for whoever runs this and, under sudo, for the user who ran sudo too."""
    from nbformat.sign import NotebookNotary

    notary = NotebookNotary()
    notary.sign(nbformat.read(path, as_version=4))
    me = pwd.getpwuid(os.getuid()).pw_name
    print(f"signed {path}: trusted for {me} ({notary.db_file})", file=sys.stderr)
    user = os.environ.get("SUDO_USER")
    if not user or user == me or os.getuid() != 0:
        return
    try:
        home = pwd.getpwnam(user).pw_dir
        env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_")}
        env.update(HOME=home, USER=user, LOGNAME=user)
        p = subprocess.run(["runuser", "-u", user, "--", sys.executable, "-m", "nbformat.sign", os.path.abspath(path)],
                           env=env, cwd="/", capture_output=True, text=True, timeout=60)
        if p.returncode == 0:
            print(f"signed {path}: trusted for {user} too", file=sys.stderr)
        else:
            why = ((p.stderr or p.stdout).strip().splitlines() or ["exit status %d" % p.returncode])[-1]
            print(f"could not sign {path} for {user}: {why}", file=sys.stderr)
    except (KeyError, OSError, subprocess.SubprocessError) as e:
        print(f"could not sign {path} for {user}: {e}", file=sys.stderr)


def finish(a) -> int:
    nb = nbformat.read(a.notebook, as_version=4)
    if a.output:
        nbformat.write(nb, a.output)
        print(f"wrote {a.output}", file=sys.stderr)
        if a.sign:
            try:
                sign(a.output)
            except Exception as e:  # the notebook is written; trust is a convenience
                print(f"could not sign {a.output}: {e}", file=sys.stderr)
    if a.html:
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter().from_notebook_node(nb)
        with open(a.html, "w", encoding="utf-8") as f:
            f.write(body)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(prog="run_notebook.py")
    sub = ap.add_subparsers(dest="mode", required=True)
    ex = sub.add_parser("execute")
    ex.add_argument("notebook")
    ex.add_argument("--output", required=True)
    ex.add_argument("--timeout", type=int, default=600)
    ex.add_argument("--kernel", default="bpfbook")
    fi = sub.add_parser("finish")
    fi.add_argument("notebook")
    fi.add_argument("--output")
    fi.add_argument("--html")
    fi.add_argument("--sign", action="store_true")
    a = ap.parse_args()
    return execute(a) if a.mode == "execute" else finish(a)


if __name__ == "__main__":
    sys.exit(main())
