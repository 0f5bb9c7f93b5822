/* A plain libbpf ring buffer (declared without RINGBUF()) read as a table: its records
 * decoded as the struct the caller names, from the object's BTF, exactly one row per
 * call of a workload; a wrong or absent struct name is an error naming what there is. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { bpf, InvalidArgumentError, InvalidOptionError } from "../bpf-lib/src/index.js";
import { workload } from "./helpers/workload.js";

const PLAIN = String.raw`
#include "bpfbook.h"
struct event { u32 pid; u64 seq; char comm[16]; };
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");
/* clang writes a struct into BTF only when a global, a map or an argument uses it */
struct event *unused_event __attribute__((unused));
const volatile u32 target = 0;
u64 seq = 0;

SEC("tracepoint/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (pid != target)
		return 0;
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = pid;
	e->seq = __sync_fetch_and_add(&seq, 1);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}
`;

interface Row { pid: number; seq: number; comm: string }

describe("custom BPF C: a plain libbpf ring", () => {
  it("reads its records as the named struct: one exact row per call", async () => {
    const N = 321;
    const w = workload(["getppid", String(N)]);
    using prog = await bpf.compile(PLAIN, { globals: { target: w.pid } });
    const events = prog.events<Row>("events", { record: "struct event" });
    assert.deepEqual(events.columns, ["pid", "seq", "comm"]);
    assert.equal(events.layout.type, "struct event");
    assert.equal(events.layout.size, 32);
    const trace = events.start();
    assert.equal(await w.go(), 0);
    await trace.stop();
    const t = await trace.table();
    assert.deepEqual(t.columnNames(), ["pid", "seq", "comm"]);
    assert.deepEqual(t.objects(), Array.from({ length: N }, (_, i): Row => ({ pid: w.pid, seq: i, comm: "workload" })));
    assert.equal(t.stats.received, N);
    // without RINGBUF()'s counters, produced is what was received and lost is not known
    assert.equal(t.stats.produced, N);
    assert.equal(t.stats.lost, 0);
  });

  it("takes the struct's bare name too; a ring without a record type says how to name one", async () => {
    using prog = await bpf.compile(PLAIN);
    assert.deepEqual(prog.events("events", { record: "event" }).columns, ["pid", "seq", "comm"]);
    assert.throws(() => prog.events("events"), (e: unknown) => e instanceof InvalidArgumentError
      && e.message === `${prog.name}: ring "events" has no record type: name its struct (prog.events("events", { record: "struct your_event" })), or declare it with RINGBUF(events, struct your_event)`);
    assert.throws(() => prog.events("events", { record: 3 } as unknown as { record: string }), (e: unknown) => e instanceof InvalidOptionError
      && /events\("events"\): record must be the C name of the record struct, e\.g\. \{ record: "struct event" \}; got 3/.test(e.message));
  });

  it("a wrong struct name lists the nearest; one used only through a local pointer says how to get it into BTF", async () => {
    using prog = await bpf.compile(PLAIN);
    assert.throws(() => prog.events("events", { record: "struct evnt" }), (e: unknown) => e instanceof InvalidArgumentError
      && /ring "events": the object's BTF has no struct "struct evnt" \(did you mean struct event\?\); its structs: .*struct event/.test(e.message));
    using bare = await bpf.compile(PLAIN.replace(/struct event \*unused_event.*\n/, ""));
    assert.throws(() => bare.events("events", { record: "struct event" }), (e: unknown) => e instanceof InvalidArgumentError
      && /has no struct "struct event"/.test(e.message)
      && e.message.includes("add `struct event *unused_event __attribute__((unused));`, or declare the ring with RINGBUF(events, struct event)"));
  });
});
