/* `where` → kernel predicates (pure). */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { predsFor, encodePreds, encodeComm } from "../bpf-lib/src/engine/filter.js";
import { parseFormat } from "../bpf-lib/src/tracefs/format.js";
import { PRED_SIZE, PredOp } from "../bpf-lib/src/engine/layout.js";

const SWITCH = `name: sched_switch
ID: 1
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:char prev_comm[16];	offset:8;	size:16;	signed:0;
	field:pid_t prev_pid;	offset:24;	size:4;	signed:1;
	field:int prev_prio;	offset:28;	size:4;	signed:1;
	field:long prev_state;	offset:32;	size:8;	signed:1;
	field:const char * name;	offset:40;	size:8;	signed:0;

print fmt: "x"
`;
const fmt = parseFormat(SWITCH, "sched", "sched_switch");
const field = (n: string) => fmt.fields.find((f) => f.name === n)!;

describe("filters", () => {
  it("a value is equality; an object is comparisons that must all hold", () => {
    assert.deepEqual(predsFor(field("prev_pid"), 7, "t").map((p) => [p.op, p.off, p.size, p.signed, p.value[0]]), [["eq", 16, 4, true, 7n]]);
    const r = predsFor(field("prev_state"), { ge: -1, lt: 4n, mask: 0xff }, "t");
    assert.deepEqual(r.map((p) => [p.op, p.value[0], p.mask[0]]), [["ge", 2n ** 64n - 1n, 0xffn], ["lt", 4n, 0xffn]]);
  });
  it("char arrays compare as strings, with the terminating NUL", () => {
    const [p] = predsFor(field("prev_comm"), "bash", "t");
    assert.equal(p.op, "streq");
    assert.equal(p.value[0], 0x68736162n); // "bash" little-endian, then NUL
    assert.equal(p.mask[0], 0xffffffffffn); // 5 bytes: "bash\\0"
    assert.equal(p.mask[1], 0n);
  });
  it("refuses what the kernel cannot compare, saying what to do instead", () => {
    assert.throws(() => predsFor(field("prev_comm"), { lt: "a" }, "t"), /only be compared with eq or ne/);
    assert.throws(() => predsFor(field("prev_pid"), "7", "t"), /where\.prev_pid must be an integer from -2147483648 to 2147483647 \(the range of prev_pid, s32\); got "7"/);
    assert.throws(() => predsFor(field("prev_pid"), { between: 3 }, "t"), /unknown comparison "between"/);
    assert.throws(() => predsFor(field("prev_pid"), 1.5, "t"), /where\.prev_pid must be an integer .*; got 1\.5/);
  });
  it("encodes struct pred exactly as bpf-lib/bpf/event.h lays it out", () => {
    const bytes = encodePreds(predsFor(field("prev_pid"), { ne: 5 }, "t"));
    const dv = new DataView(bytes.buffer);
    assert.equal(bytes.length, 8 * PRED_SIZE);
    assert.equal(dv.getBigUint64(0, true), 5n);
    assert.equal(dv.getUint16(32, true), 16);
    assert.equal(dv.getUint8(34), 4);
    assert.equal(dv.getUint8(35), PredOp.ne);
    assert.equal(dv.getUint8(36), 1);
    assert.throws(() => encodePreds(new Array(9).fill(predsFor(field("prev_pid"), 1, "t")[0])), /at most 8/);
  });
  it("comm filters include the NUL and stop at 15 bytes", () => {
    assert.deepEqual(encodeComm("nginx").len, 6);
    assert.throws(() => encodeComm("sixteen-chars-xx"), /longer than the kernel keeps/);
  });
});
