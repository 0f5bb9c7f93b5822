/* What the engine needs of a probe whose events are tracepoint records: the probes
 * implement it, so the engine never imports them. */
import type { BpfObject } from "../libbpf/object.js";
import type { TracepointFormat } from "../tracefs/format.js";
import type { DerivedLayout } from "./derive.js";

/** A tracepoint-like event source: its record format, and how to configure a program to read it. */
export interface RecordSource {
  /** The probe as named in messages, e.g. "tracepoint:sched:sched_switch". */
  readonly source: string;
  /** The record's fields (and group/name, which attach uses). */
  readonly format: TracepointFormat;
  /** The same source with its copy window widened to cover these fields. */
  withFields(names: readonly string[]): RecordSource;
  /** The same source, also deriving these standard columns (uid, ppid, ...) where it can; unknown names are left to key planning to reject. */
  withColumns?(names: readonly string[]): RecordSource;
  /** Where its derived values lie in the window (pairing puts carried fields after them). */
  readonly derivedLayout?: DerivedLayout | null;
  /** Sets the record window, filters and self-exclusion constants on an opened object. */
  configureRecord(obj: BpfObject): void;
}
