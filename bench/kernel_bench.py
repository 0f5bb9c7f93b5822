"""Kernel start-up and round-trip times through jupyter_client; prints one JSON line."""
import json
import statistics
import time

from jupyter_client.manager import KernelManager

t0 = time.monotonic()
km = KernelManager(kernel_name="bpfbook")
km.start_kernel()
kc = km.client()
kc.start_channels()
kc.kernel_info()
kc.get_shell_msg(timeout=30)
startup = time.monotonic() - t0


def run(code):
    msg_id = kc.execute(code)
    while True:
        m = kc.get_iopub_msg(timeout=30)
        if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            break
    kc.get_shell_msg(timeout=30)


t1 = time.monotonic()
run("1")
first = time.monotonic() - t1
times = []
for i in range(50):
    t = time.monotonic()
    run(f"{i} + 1")
    times.append(time.monotonic() - t)
kc.stop_channels()
km.shutdown_kernel(now=True)
import os
import sys

print(json.dumps({"kernel_info_seconds": startup, "first_cell_seconds": first, "roundtrip_median_ms": statistics.median(times) * 1e3, "roundtrip_p90_ms": sorted(times)[int(len(times) * 0.9)] * 1e3}))
sys.stdout.flush()
os._exit(0)  # skip jupyter_client's noisy finalizers at interpreter exit
