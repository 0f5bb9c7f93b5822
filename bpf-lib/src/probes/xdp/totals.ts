/* The program's own counters (struct xdp_totals, per CPU): every packet seen, what the
 * rules matched and dropped. Read through a duplicate of the map's fd, so they can be
 * read once more after the run has released its object, and the numbers are final. */
import * as ffi from "../../ffi/libbpf.js";
import { closeFd, dupFd } from "../../ffi/xdp.js";
import { possibleCpus } from "../../libbpf/map.js";
import type { BpfMap } from "../../libbpf/map.js";
import { MapError, errnoName } from "../../errors.js";
import { TOTALS, TOTALS_SIZE } from "./layout.js";

export interface RuleInfo {
  /** Position in the rules list (first match wins). */
  index: number;
  name: string;
  action: "drop" | "pass";
  /** The match in words: "icmp", "udp dport 53". */
  match: string;
}

export interface RuleCount extends RuleInfo {
  /** Packets and bytes the rule matched (it was the first to match). */
  packets: number;
  bytes: number;
}

export interface XdpTotals {
  /** Every packet the program ran on, and their bytes (frame bytes, without FCS). */
  packetsSeen: number;
  bytesSeen: number;
  /** Packets whose headers were cut short (counted by what could be parsed). */
  truncatedHeaders: number;
  /** Packets the program dropped (XDP_DROP) because a drop rule matched. */
  xdpDropped: number;
  xdpDroppedBytes: number;
  /** Dry run: packets a drop rule matched (all of them passed). */
  wouldDrop: number;
  wouldDropBytes: number;
  /** Sampling: packets that matched but were not picked by the sampling rate. */
  sampledOut: number;
  rules: RuleCount[];
}

export class TotalsReader implements Disposable {
  #fd: number;
  readonly #rules: readonly RuleInfo[];
  #last: XdpTotals | null = null;

  constructor(map: BpfMap, rules: readonly RuleInfo[]) {
    const fd = dupFd(map.fd);
    if (fd < 0) throw new MapError(`cannot keep the XDP counters map: ${errnoName(-fd)}`, -fd);
    this.#fd = fd;
    this.#rules = rules;
  }

  /** The totals now (the last ones read once closed). */
  read(): XdpTotals {
    if (this.#fd < 0) return this.#last!;
    const ncpu = possibleCpus();
    const value = new Uint8Array(TOTALS_SIZE * ncpu);
    const rc = ffi.mapLookup(this.#fd, new Uint8Array(4), value);
    if (rc < 0) throw new MapError(`reading the XDP counters failed: ${errnoName(-rc)}`, -rc);
    const dv = new DataView(value.buffer);
    const sum = (i: number) => {
      let s = 0;
      for (let c = 0; c < ncpu; c++) s += Number(dv.getBigUint64(c * TOTALS_SIZE + i * 8, true));
      return s;
    };
    const rules = this.#rules.map((r) => ({ ...r, packets: sum(TOTALS.rulePackets + r.index), bytes: sum(TOTALS.ruleBytes + r.index) }));
    this.#last = {
      packetsSeen: sum(TOTALS.packets), bytesSeen: sum(TOTALS.bytes), truncatedHeaders: sum(TOTALS.truncated),
      xdpDropped: sum(TOTALS.dropped), xdpDroppedBytes: sum(TOTALS.droppedBytes), wouldDrop: sum(TOTALS.wouldDrop),
      wouldDropBytes: sum(TOTALS.wouldDropBytes), sampledOut: sum(TOTALS.sampledOut), rules,
    };
    return this.#last;
  }

  /** Reads the final totals and lets the map go. Idempotent. */
  close(): XdpTotals {
    if (this.#fd >= 0) {
      try {
        this.read();
      } finally {
        closeFd(this.#fd);
        this.#fd = -1;
      }
    }
    return this.#last!;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
