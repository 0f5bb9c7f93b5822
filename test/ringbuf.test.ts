/* The memory-mapped ring buffer reader, driven by a burst producer in the kernel
 * (BPF_PROG_TYPE_SYSCALL run once with BPF_PROG_TEST_RUN, bpf_loop emitting N events). */
import { describe, it } from "node:test";
import { readFileSync } from "node:fs";
import assert from "node:assert/strict";
import { BpfObject } from "../bpf-lib/src/libbpf/object.js";
import { RingBufferReader } from "../bpf-lib/src/ringbuf/reader.js";
import { EventDecoder } from "../bpf-lib/src/engine/decoder.js";
import { readCounters } from "../bpf-lib/src/engine/stats.js";
import { bpfObjectPath } from "../bpf-lib/src/paths.js";
import { HDR, HDR_SIZE } from "../bpf-lib/src/engine/layout.js";

function burst(count: number, bufferBytes: number) {
  const obj = BpfObject.open(bpfObjectPath("burst"));
  obj.setConstant("cfg_count", count);
  obj.setConstant("cfg_event_size", HDR_SIZE);
  obj.map("events").setMaxEntries(bufferBytes);
  obj.load();
  const reader = new RingBufferReader(obj.map("events").fd, bufferBytes);
  return { obj, reader, run: () => obj.program("burst").testRun() };
}

describe("ring buffer reader", () => {
  it("drains a burst of N events in order, none lost", () => {
    const N = 100000;
    const { obj, reader, run } = burst(N, 1 << 23);
    try {
      run();
      const seqs: number[] = [];
      const sink = { record: (off: number, len: number) => { assert.equal(len, HDR_SIZE); seqs.push(reader.dv.getUint32(off + HDR.flags, true)); } };
      while (reader.drain(sink) > 0);
      assert.equal(seqs.length, N);
      for (let i = 0; i < N; i++) if (seqs[i] !== i) assert.fail(`event ${i} has sequence ${seqs[i]}`);
      assert.equal(reader.pending(), 0);
      const c = readCounters(obj.map("stats"));
      assert.deepEqual({ produced: c.produced, lost: c.lost, filtered: c.filtered, excludedSelf: c.excludedSelf, readFailed: c.readFailed }, { produced: N, lost: 0, filtered: 0, excludedSelf: 0, readFailed: 0 });
    } finally {
      reader.close();
      obj.dispose();
    }
  });

  it("decodes the standard header into columns", () => {
    const N = 3000;
    const { obj, reader, run } = burst(N, 1 << 20);
    try {
      run();
      const dec = new EventDecoder(reader, HDR_SIZE, []);
      while (reader.drainSpan(dec) > 0);
      const cols = dec.take();
      assert.equal(cols.ts.length, N);
      assert.deepEqual([...new Set(cols.pid as Int32Array)], [process.pid]);
      const comms = [...new Set(cols.comm as Iterable<string>)];
      assert.equal(comms.length, 1, "one process, one comm");
      assert.equal(comms[0], readFileSync("/proc/self/comm", "utf8").trim());
      assert.ok((cols.ts as Float64Array)[0] > 0);
    } finally {
      reader.close();
      obj.dispose();
    }
  });

  it("a tiny ring buffer under a burst loses events and says how many: received + lost == produced", () => {
    const N = 1000;
    const { obj, reader, run } = burst(N, 4096);
    try {
      run(); // nobody consumes during the burst: the ring fills, the rest is lost
      let received = 0;
      while (reader.drain({ record: () => void received++ }) > 0);
      const c = readCounters(obj.map("stats"));
      assert.equal(c.produced, N);
      assert.ok(c.lost > 0);
      assert.equal(received, Math.floor(4096 / (HDR_SIZE + 8)), "a 4 KiB ring holds 85 records of 48 bytes");
      assert.equal(received + c.lost, c.produced);
    } finally {
      reader.close();
      obj.dispose();
    }
  });

  it("wraps around the end of the ring many times", () => {
    const { obj, reader, run } = burst(50, 4096);
    try {
      let total = 0;
      for (let round = 0; round < 40; round++) {
        run();
        while (reader.drain({ record: () => void total++ }) > 0);
      }
      assert.equal(total, 2000);
      assert.equal(readCounters(obj.map("stats")).lost, 0);
    } finally {
      reader.close();
      obj.dispose();
    }
  });
});
