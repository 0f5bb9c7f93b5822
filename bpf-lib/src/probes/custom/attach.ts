/* Attaching a user's programs by their SEC names, as libbpf's auto-attach does,
 * plus the two kinds a SEC name cannot say enough about: perf_event (how often) and
 * xdp (which interface). All or nothing: a failure detaches what was attached. */
import type { BpfProgram } from "../../libbpf/program.js";
import type { Link } from "../../libbpf/link.js";
import { existsSync } from "node:fs";
import { InvalidArgumentError, InvalidOptionError, NotSupportedError } from "../../errors.js";
import { attachSampling, onlineCpus } from "../profile/perf.js";
import { attachXdpProgram, resolveInterface } from "../xdp/attach.js";
import { nearest } from "../../tracefs/nearest.js";
import type { AttachOptions } from "./types.js";

/** The SEC prefixes libbpf attaches by name alone (libbpf 1.1's section table). */
const AUTO = /^(tp|tracepoint|raw_tp|raw_tracepoint|tp_btf|kprobe|kretprobe|ksyscall|kretsyscall|fentry|fexit|fmod_ret|uprobe|uretprobe|usdt|lsm|iter)(\.s)?\//;

/** How a program of this section attaches: "auto", "perf_event", "xdp", or null when it cannot be attached here. */
export function attachKind(section: string): "auto" | "perf_event" | "xdp" | null {
  if (section === "perf_event") return "perf_event";
  if (section === "xdp" || section.startsWith("xdp/") || section === "xdp.frags") return "xdp";
  return AUTO.test(section) ? "auto" : null;
}

function attachOne(p: BpfProgram, opts: AttachOptions): Link[] {
  switch (attachKind(p.section)) {
    case "auto":
      try {
        return [p.attachAuto()];
      } catch (e) {
        // libbpf says ENOENT when the kernel has no kprobes at all (CONFIG_KPROBES off)
        if (/^k(ret)?probe\//.test(p.section) && !existsSync("/sys/kernel/tracing/kprobe_events") && !existsSync("/sys/kernel/debug/tracing/kprobe_events")) {
          throw new NotSupportedError(`SEC("${p.section}")`, "this kernel has no kprobes (CONFIG_KPROBES is off); use fentry/<fn> where the kernel allows it (bpfbook doctor)", { cause: e });
        }
        throw e;
      }
    case "perf_event": {
      const hz = opts.hz ?? 99;
      if (!Number.isInteger(hz) || hz < 1 || hz > 100000) throw new InvalidOptionError("attach", "hz", opts.hz, "an integer from 1 to 100000 (samples per second per CPU)");
      return attachSampling(p, hz, onlineCpus());
    }
    case "xdp": {
      if (!opts.xdp) throw new InvalidArgumentError(`program "${p.name}" is an XDP program (SEC("${p.section}")): say which interface it runs on, e.g. { xdp: "eth0" }, to start(), run() or collect()`);
      return [attachXdpProgram(p, resolveInterface(opts.xdp), opts.xdpMode ?? "auto").link];
    }
    default:
      throw new InvalidArgumentError(`program "${p.name}" has SEC("${p.section}"), which bpfbook cannot attach: use tracepoint/<group>/<name>, raw_tp/<name>, tp_btf/<name>, kprobe/<fn>, kretprobe/<fn>, fentry/<fn>, fexit/<fn>, uprobe/<path>:<symbol>, uretprobe/<path>:<symbol>, usdt/..., perf_event or xdp`);
  }
}

/** Attaches the programs (all, or opts.programs by name); on failure nothing stays attached. */
export function attachPrograms(programs: ReadonlyMap<string, BpfProgram>, opts: AttachOptions = {}): Link[] {
  const names = opts.programs ?? [...programs.keys()];
  for (const n of names) {
    if (!programs.has(n)) throw new InvalidArgumentError(`attach: there is no program "${n}"; the programs are ${[...programs.keys()].join(", ")}${nearest(n, programs.keys()).length ? ` (did you mean ${nearest(n, programs.keys()).join(", ")}?)` : ""}`);
  }
  const links: Link[] = [];
  try {
    for (const n of names) links.push(...attachOne(programs.get(n)!, opts));
  } catch (e) {
    for (const l of links.reverse()) l.dispose();
    throw e;
  }
  return links;
}
