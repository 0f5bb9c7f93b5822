/* The run-queue length, sampled (bcc's runqlen, bpftrace's runqlen.bt): at each CPU
 * sample, how many tasks wait on the CPU's run queue behind the one running. Built on
 * sample(): the count is read through kernel pointers from the running task. */
import { BtfBlob } from "../../btf/blob.js";
import { findMember } from "../../btf/members.js";
import { findStruct } from "../../btf/root.js";
import type { BtfTypeSource } from "../../btf/source.js";
import { NotSupportedError, InvalidOptionError } from "../../errors.js";
import { histSpec } from "../../options/hist.js";
import { nameList, optionsObject } from "../../options/shapes.js";
import { Sampler } from "./sample.js";
import { SampleAggregation } from "./sample-aggregate.js";
import type { RunqueueLengthOptions } from "./sample-types.js";

const WHAT = "sched.runqueueLength()";
const DEFAULT_HIST = { min: 0, max: 32, step: 1 } as const;
const OPTIONS = ["hz", "cpus", "by", "queue", "hist", "maxKeys"];

/**
 * The member of `struct cfs_rq` that counts its queued entities: `nr_queued` since Linux
 * 6.14, `nr_running` before (renamed because it also counts tasks whose dequeue EEVDF
 * delays). Null when the kernel's BTF has neither.
 */
export function cfsQueuedMember(btf: BtfTypeSource = BtfBlob.vmlinux()): "nr_queued" | "nr_running" | null {
  const cfs = findStruct(btf, "cfs_rq");
  if (!cfs) return null;
  for (const m of ["nr_queued", "nr_running"] as const) if (findMember(btf, cfs.id, m)) return m;
  return null;
}

/**
 * The run-queue length at each sample (99 Hz on every CPU by default), as a linear
 * histogram of 0..32 (bcc's runqlen; `by: ["cpu"]` is its -C). Counts the tasks waiting
 * behind the one running: 0 on an idle CPU or one running a task alone.
 *
 * queue "task" (default, as bcc and bpftrace read it): `current->se.cfs_rq->nr_queued`
 * (`nr_running` before 6.14), minus one when not zero: the CFS queue of the running
 * task's own group on that CPU. queue "cpu": `current->se.cfs_rq->rq->nr_running`, the
 * CPU's whole queue (every class and group), minus one unless the CPU is idle.
 */
export function runqueueLength(options: RunqueueLengthOptions = {}): SampleAggregation {
  const o = optionsObject(options, WHAT, '{ by: ["cpu"] }');
  for (const k of Object.keys(o)) if (!OPTIONS.includes(k)) throw new InvalidOptionError(WHAT, k, (o as Record<string, unknown>)[k], `left out: ${WHAT} takes ${OPTIONS.join(", ")}; collect() and start() take seconds, interval, signal`);
  const queue = o.queue ?? "task";
  if (queue !== "task" && queue !== "cpu") throw new InvalidOptionError(WHAT, "queue", queue, '"task" (the running task\'s CFS queue, as bcc\'s runqlen) or "cpu" (the CPU\'s whole run queue)');
  const by = nameList(o.by, "by", WHAT) ?? [];
  for (const k of by) if (!["cpu", "pid", "comm"].includes(k)) throw new InvalidOptionError(WHAT, "by", o.by, 'a list of "cpu", "pid", "comm" (of the task running at the sample)');
  const hist = o.hist === "stats" ? undefined : histSpec(o.hist, WHAT, ["stats"]) ?? DEFAULT_HIST;
  const member = cfsQueuedMember();
  if (member === null) throw new NotSupportedError("the run-queue length", "this kernel's BTF has no struct cfs_rq with nr_queued or nr_running");
  let sampler: Sampler<"runqlen">;
  try {
    const path = queue === "task" ? `current.se.cfs_rq.${member}` : "current.se.cfs_rq.rq.nr_running";
    sampler = new Sampler<"runqlen">({ hz: o.hz, cpus: o.cpus, read: { runqlen: path } });
  } catch (e) {
    // se.cfs_rq exists only with CONFIG_FAIR_GROUP_SCHED
    if ((e as { code?: string }).code === "ENOMEMBER") throw new NotSupportedError("the run-queue length", `this kernel's task_struct has no se.cfs_rq (CONFIG_FAIR_GROUP_SCHED is off): ${(e as Error).message}`, { cause: e });
    throw e;
  }
  const source = `runqueue length (${queue === "task" ? "the running task's CFS queue" : "the CPU's run queue"}) ${sampler.hz} Hz`;
  return new SampleAggregation(sampler, { by: by as ("cpu" | "pid" | "comm")[], value: "runqlen", hist, maxKeys: o.maxKeys }, { adjust: queue === "task" ? "lessOne" : "lessRunning", source });
}
