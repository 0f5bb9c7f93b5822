/* The option checks profile(), offcpu() and their start*() forms share. */
import { InvalidArgumentError, InvalidOptionError } from "../../errors.js";
import { stopOptions } from "../../options/durations.js";
import { cpuList } from "../../options/cpus.js";
import { integerIn } from "../../options/shapes.js";
import { processId } from "../../options/ranges.js";
import { onlineCpus } from "./perf.js";
import type { OffcpuOptions, ProfileOptions } from "./types.js";

export function checkOptions(options: ProfileOptions & OffcpuOptions, what: string): void {
  const o = stopOptions(options, what);
  if (o.events !== undefined) throw new InvalidOptionError(what, "events", o.events, "left out: profiles stop on seconds or signal (or stop())");
  if (o.cpus !== undefined) cpuList(o.cpus, onlineCpus(), what);
  integerIn(o.minNs, "minNs", what, 0, Number.MAX_SAFE_INTEGER);
  integerIn(o.maxThreads, "maxThreads", what, 1, 1 << 22);
  integerIn(o.hz, "hz", what, 1, 100000);
  processId(o.pid, "pid", what);
  if (o.kernel === false && o.user === false) throw new InvalidArgumentError("profile needs kernel or user stacks (or both); both are off");
  integerIn(o.maxStacks, "maxStacks", what, 1, 1 << 20);
  integerIn(o.maxKeys, "maxKeys", what, 1, 1 << 22);
}
