/* The tracer leaves its own process out of whole-machine traces: a notebook kernel
 * that reads a ring buffer makes syscalls, and seeing them would both show the
 * tracer in every "busiest process" chart and feed back into what it collects.
 * Exclusion is by the current task (the pid column), in the kernel (stream.h). */
import type { BpfObject } from "../libbpf/object.js";
import { InvalidArgumentError } from "../errors.js";

export interface SelfOption {
  /** Keep events of this process (the tracer itself), which whole-machine traces leave out by default. */
  includeSelf?: boolean;
}

/** Sets cfg_exclude_tgid unless asked to include self or a pid/tid filter already says whom to keep. */
export function excludeSelf(obj: BpfObject, opts: SelfOption, filter: { pid?: number; tid?: number }): void {
  const v: unknown = opts.includeSelf;
  if (v !== undefined && typeof v !== "boolean") throw new InvalidArgumentError(`includeSelf must be true or false, got ${typeof v === "string" ? JSON.stringify(v) : String(v)}`);
  if (opts.includeSelf === true || filter.pid !== undefined || filter.tid !== undefined) return;
  obj.setConstant("cfg_exclude_tgid", process.pid);
}
