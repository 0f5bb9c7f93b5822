/* The footer under a table (kernel/display/table-stats.ts) for profile() and offcpu()
 * tables: what was counted, and, loudly, what is missing. Pure: stats objects shaped as
 * bpf-lib's ProfileStats; test/profile.test.ts checks the footer of a real offcpu table. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { statsParts, tableStats } from "../kernel/display/table-stats.js";

const table = (stats: object) => Object.defineProperty({}, "stats", { value: stats, enumerable: false });
const base = { source: "offcpu pid 7", kind: "offcpu", samples: 15, ns: 301_600_000, lost: 0, dropped: 0, idle: 0, filtered: 40, seconds: 0.45, hz: 0, cpus: 2 };

describe("table footer: profile and offcpu stats", () => {
  it("an offcpu table: periods, time off CPU, other processes; rebuilt returns said quietly, unseen ones loudly", () => {
    const quiet = statsParts(tableStats(table({ ...base, recovered: 1, unseen: 0 }))!);
    assert.deepEqual(quiet, [
      { text: "offcpu pid 7", loud: false },
      { text: "15 off-CPU periods, 0.302 s off CPU", loud: false },
      { text: "1 return the kernel never reported, rebuilt from CPU time", loud: false },
      { text: "40 of other processes left out", loud: false },
      { text: "0.45 s", loud: false },
    ]);
    const lossy = statsParts(tableStats(table({ ...base, lost: 2, dropped: 3, unseen: 4 }))!).filter((p) => p.loud).map((p) => p.text);
    assert.deepEqual(lossy, [
      "2 samples without a stack ([lost stack]; raise maxStacks)",
      "3 not counted (map full; raise maxKeys)",
      "4 off-CPU periods not counted: the kernel never reported the return, and rebuilding it needs kernel reads",
    ]);
  });

  it("a CPU profile: samples; a table without stats, or with other counters, gets no profile footer", () => {
    const parts = statsParts(tableStats(table({ ...base, kind: "cpu", samples: 198, ns: undefined, filtered: 0 }))!);
    assert.deepEqual(parts.map((p) => p.text), ["offcpu pid 7", "198 samples", "0.45 s"]);
    assert.equal(tableStats({}), undefined);
    assert.equal(tableStats(table({ kind: "cpu", samples: "many" })), undefined);
  });
});
