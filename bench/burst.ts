/* The kernel burst producer (burst.bpf.c): a BPF_PROG_TYPE_SYSCALL program that, run
 * once with BPF_PROG_TEST_RUN, emits `count` header-only events into its ring with
 * bpf_loop. The drain, memory and scale suites feed consumers from it. */
import { BpfObject } from "../bpf-lib/src/libbpf/object.js";
import { bpfObjectPath } from "../bpf-lib/src/paths.js";
import { HDR_SIZE } from "../bpf-lib/src/engine/layout.js";

/** A loaded burst object whose ring holds `bytes`; run it with `obj.program("burst").testRun()`. */
export function burstObject(count: number, bytes: number): BpfObject {
  const obj = BpfObject.open(bpfObjectPath("burst"));
  obj.setConstant("cfg_count", count);
  obj.setConstant("cfg_event_size", HDR_SIZE);
  obj.map("events").setMaxEntries(bytes);
  obj.load();
  return obj;
}
