"""A stand-in for a notebook server: writes a connection file, starts the bpfbook
kernel as its child (with JPY_PARENT_PID, as jupyter_client does), prints
"<kernel pid> <connection file>" and waits to be killed. An optional second
argument replaces the JPY_PARENT_PID value (a stale one, for the test that the
kernel does not shut itself down over it)."""
import os
import subprocess
import sys
import time

from jupyter_client.connect import write_connection_file

ROOT = os.environ.get("BPFBOOK_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

if __name__ == "__main__":
    path, _ = write_connection_file(sys.argv[1])
    env = dict(os.environ, JPY_PARENT_PID=sys.argv[2] if len(sys.argv) > 2 else str(os.getpid()))
    kernel = subprocess.Popen(["/usr/bin/node", os.path.join(ROOT, "dist", "kernel", "main.js"), path], env=env)
    print(kernel.pid, path, flush=True)
    while True:
        time.sleep(60)
