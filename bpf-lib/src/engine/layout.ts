/* The event layout shared with bpf-lib/bpf/event.h. test/layout.test.ts checks
 * these numbers against the compiled object's BTF. */
export const HDR_SIZE = 40;
export const HDR = { ts: 0, pid: 8, tid: 12, cpu: 16, flags: 20, comm: 24 } as const;
export const COMM_LEN = 16;
/** Tracepoint programs cannot read a record's first 8 bytes; the copied window starts here. */
export const RECORD_BASE = 8;
export const MAX_WINDOW = 512;
/** A program's whole window (event.h MAX_SPAN): copied record or slots, __data_loc data, derived and carried values. */
export const MAX_SPAN = 2048;
export const MAX_PREDS = 8;
export const MAX_USTR = 4;
export const MAX_USTR_LEN = 1024;
export const PRED_SIZE = 40;
export const PredOp = { eq: 0, ne: 1, lt: 2, le: 3, gt: 4, ge: 5, streq: 6, strne: 7 } as const;
/** Indices of the per-CPU `stats` map, as enum stat_idx in event.h. */
export const Stat = { produced: 0, lost: 1, filtered: 2, dropped: 3, unmatched: 4, startDropped: 5, excludedSelf: 6, readFailed: 7, evicted: 8 } as const;
