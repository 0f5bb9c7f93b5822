/* Whether this kernel can probe kernel functions at all, and why not: doctor's
 * probes (features.bpf.o: load and attach one tiny program per kind), each run
 * at most once per process, only when a kernel function probe needs the answer. */
import { probeFeatureSync, SystemFacts, type FeatureKind, type FeatureResult } from "../../doctor/features.js";
import { NotSupportedError } from "../../errors.js";

export type Via = "fentry" | "kprobe";

const results = new Map<FeatureKind, FeatureResult>();
let facts: SystemFacts | null = null;

/** doctor's result for one kind, tried once per process. */
export function feature(kind: FeatureKind): FeatureResult {
  let r = results.get(kind);
  if (!r) {
    facts ??= new SystemFacts();
    r = probeFeatureSync(kind, facts);
    results.set(kind, r);
  }
  return r;
}

/** Which program kinds a probe of this shape needs for each mechanism. */
export function kindsFor(via: Via, ret: boolean, paired: boolean): FeatureKind[] {
  if (via === "fentry") return ret ? (paired ? ["fexit", "fentry"] : ["fexit"]) : ["fentry"];
  return ret ? (paired ? ["kretprobe", "kprobe"] : ["kretprobe"]) : ["kprobe"];
}

export interface KernelFunctionSupport {
  fentry: FeatureResult;
  fexit: FeatureResult;
  kprobe: FeatureResult;
  kretprobe: FeatureResult;
  /** The mechanism `via: "auto"` picks for entry probes, or null when none works. */
  preferred: Via | null;
}

/** What this kernel allows for kernel function probes (each kind tried once per process). */
export function kernelFunctionSupport(): KernelFunctionSupport {
  const fentry = feature("fentry"), fexit = feature("fexit"), kprobe = feature("kprobe"), kretprobe = feature("kretprobe");
  return { fentry, fexit, kprobe, kretprobe, preferred: fentry.ok ? "fentry" : kprobe.ok ? "kprobe" : null };
}

/** "kprobes: CONFIG_KPROBES is off (/boot/config-...)": each mechanism once, each distinct reason once. */
function refusal(via: Via, refused: readonly FeatureResult[]): string {
  const reasons = [...new Set(refused.map((r) => r.reason ?? `${r.kind} refused`))];
  return `${via === "kprobe" ? "kprobes" : "fentry"}: ${reasons.join("; ")}`;
}

/** What does work here, for the end of a NotSupportedError message. */
function alternatives(): string {
  const ok = (["tracepoint", "uprobe"] as const).filter((k) => feature(k).ok).map((k) => (k === "tracepoint" ? "tracepoints" : "uprobes"));
  const works = ok.length ? `${ok.join(" and ")} work${ok.length === 1 ? "s" : ""} here` : "";
  return `${works ? works + " — " : ""}see \`bpfbook doctor\``;
}

/**
 * The kinds among `needed` this kernel refuses (doctor's results), or [] when all work.
 * Only consulted after an attempt failed, or to explain a forced `via`.
 */
export function refused(needed: readonly FeatureKind[]): FeatureResult[] {
  return needed.map(feature).filter((r) => !r.ok);
}

/**
 * The NotSupportedError for a probe of `fn` when every mechanism tried is refused by
 * the kernel: names each mechanism and doctor's reason, and what works instead.
 */
export function unsupported(what: string, tried: { via: Via; refused: FeatureResult[] }[], cause?: unknown): NotSupportedError {
  const parts = tried.map((t) => refusal(t.via, t.refused));
  const reason = `${tried.length > 1 ? "neither kprobes nor fentry work on this kernel — " : ""}${parts.join("; ")}; ${alternatives()}`;
  return new NotSupportedError(what, reason, { cause });
}
