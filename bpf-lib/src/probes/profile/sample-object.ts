/* profile.bpf.c configured for sampled kernel state (on_sample_read): derived reads
 * from the current task, a key, a value and a histogram through agg.h; attached to a
 * cpu-clock perf event per CPU. Also what profile() and offcpu() leave unused of it. */
import { BpfObject } from "../../libbpf/object.js";
import type { Link } from "../../libbpf/link.js";
import { bpfObjectPath } from "../../paths.js";
import { requireTracingPrivileges } from "../../privileges.js";
import { NotSupportedError, VerifierError } from "../../errors.js";
import { encodeParts, type KeyPlan } from "../../engine/keys.js";
import type { DerivedLayout } from "../../engine/derive.js";
import type { HistSpec } from "../../options/hist.js";
import { attachSampling } from "./perf.js";

/** enum value_adjust in profile.bpf.c. */
export const VALUE_ADJUST = { none: 0, lessOne: 1, lessRunning: 2 } as const;
export type ValueAdjust = keyof typeof VALUE_ADJUST;

/** A loaded profile.bpf.c never feeds the ring buffer: the smallest one libbpf accepts (a page). */
const UNUSED_RING = 4096;

/** profile()/offcpu(): the sampled-read program's maps, cut to nothing. */
export function unusedSampleReadMaps(obj: BpfObject): void {
  obj.map("events").setMaxEntries(UNUSED_RING);
  for (const m of ["agg0", "agg1"]) {
    obj.map(m).setKeySize(8);
    obj.map(m).setMaxEntries(1);
  }
}

/** Sampled reads: the stack-profile maps, cut to nothing. */
function unusedProfileMaps(obj: BpfObject): void {
  for (const m of ["stacks", "spill", "counts", "offcounts", "offstarts"]) obj.map(m).setMaxEntries(1);
  obj.map("events").setMaxEntries(UNUSED_RING);
}

export interface SampleConfig {
  source: string;
  hz: number;
  cpus: readonly number[];
  pid?: number;
  derived: DerivedLayout;
  plan: KeyPlan;
  /** The aggregated derived field, or null to count samples. */
  value: { woff: number; size: number; signed: boolean } | null;
  adjust: ValueAdjust;
  hist?: HistSpec;
  maxKeys: number;
}

/** Opens, configures and loads on_sample_read; attach() opens the perf events and attaches to each. */
export function loadSampleObject(c: SampleConfig): { obj: BpfObject; attach: () => Link[] } {
  requireTracingPrivileges(c.source);
  const obj = BpfObject.open(bpfObjectPath("profile"), "profile");
  try {
    obj.program("on_sample").setAutoload(false);
    obj.program("on_switch").setAutoload(false);
    obj.program("on_sample_read").setAutoload(true);
    unusedProfileMaps(obj);
    if (c.pid !== undefined) obj.setConstant("cfg_pid", c.pid);
    obj.setConstant("cfg_nderive", c.derived.fields.length);
    obj.setConstant("cfg_derive", c.derived.rodata);
    obj.setConstant("cfg_nparts", c.plan.parts.length);
    obj.setConstant("cfg_parts", encodeParts(c.plan.parts));
    for (const m of ["agg0", "agg1"]) {
      obj.map(m).setKeySize(c.plan.size);
      obj.map(m).setMaxEntries(c.maxKeys);
    }
    if (c.value) {
      obj.setConstant("cfg_value_src", 1);
      obj.setConstant("cfg_value_woff", c.value.woff);
      obj.setConstant("cfg_value_size", c.value.size);
      obj.setConstant("cfg_value_signed", c.value.signed ? 1 : 0);
      obj.setConstant("cfg_value_adjust", VALUE_ADJUST[c.adjust]);
    }
    const h = c.hist;
    obj.setConstant("cfg_hist", !h ? 0 : h === "log2" ? 1 : 2);
    if (h && h !== "log2") {
      obj.setConstant("cfg_lmin", BigInt(h.min));
      obj.setConstant("cfg_lmax", BigInt(h.max));
      obj.setConstant("cfg_lstep", BigInt(h.step));
    }
    obj.load();
  } catch (e) {
    obj.dispose();
    throw refusedKernelRead(e, c);
  }
  const attach = (): Link[] => attachSampling(obj.program("on_sample_read"), c.hz, c.cpus);
  return { obj, attach };
}

/**
 * A verifier refusal of bpf_probe_read_kernel is the kernel saying it will not read its
 * own memory (lockdown=confidentiality): a NotSupportedError naming the reads.
 */
export function refusedKernelRead(e: unknown, c: Pick<SampleConfig, "source" | "derived">): unknown {
  const reads = c.derived.fields.filter((f) => f.kernelRead);
  if (!(e instanceof VerifierError) || reads.length === 0 || !/probe_read_kernel|unknown func/.test(e.log)) return e;
  const what = reads.map((f) => `${f.column} (${f.what ?? f.column})`).join(", ");
  return new NotSupportedError(
    `reading kernel memory at each sample (${what})`,
    "this kernel refuses bpf_probe_read_kernel, as lockdown=confidentiality does (see `bpfbook doctor`); sample without `read`, or count samples by cpu, pid or comm only",
    { cause: e },
  );
}
