/* The `names` option of tracepoint probes: name columns next to the numbers, in streams
 * and in aggregation keys, for a workload whose TCP state changes are known. */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { anyTracepoint } from "../bpf-lib/src/probes/tracepoint/probe.js";
import { InvalidArgumentError } from "../bpf-lib/src/errors.js";
import { workload } from "./helpers/workload.js";

describe("names option", () => {
  it("streams and aggregations get <field>_name columns; the state counts of N loopback connections are exact", async () => {
    const n = 3, port = 21000 + (process.pid % 9000);
    const w = workload(["tcp", String(port), String(n)]);
    after(() => w.child.kill());
    const t = anyTracepoint("sock:inet_sock_set_state", { fields: ["newstate", "family", "saddr"], where: { pid: w.pid }, names: true }).start();
    const a = anyTracepoint("sock:inet_sock_set_state", { where: { pid: w.pid }, names: ["newstate"] }).count({ by: ["newstate"] }).start();
    assert.equal(await w.go(), 0);
    await new Promise((r) => setTimeout(r, 200));
    await a.stop();
    const tab = await t.table();
    const rows = tab.objects() as Record<string, unknown>[];
    for (const r of rows) {
      assert.equal(r.family_name, "AF_INET");
      assert.equal(r.saddr_name, "127.0.0.1");
    }
    // listener: LISTEN then CLOSE; each connection: the client SYN_SENT → ESTABLISHED → FIN_WAIT1 → FIN_WAIT2 → CLOSE,
    // the server side SYN_RECV → ESTABLISHED → CLOSE_WAIT → LAST_ACK → CLOSE
    const expected = { TCP_LISTEN: 1, TCP_SYN_SENT: n, TCP_SYN_RECV: n, TCP_ESTABLISHED: 2 * n, TCP_FIN_WAIT1: n, TCP_FIN_WAIT2: n, TCP_CLOSE_WAIT: n, TCP_LAST_ACK: n, TCP_CLOSE: 2 * n + 1 };
    const streamed: Record<string, number> = {};
    for (const r of rows) streamed[r.newstate_name as string] = (streamed[r.newstate_name as string] ?? 0) + 1;
    assert.deepEqual(streamed, expected);
    const counted = Object.fromEntries((await a.finished()).objects().map((r) => [(r as Record<string, unknown>).newstate_name, (r as Record<string, unknown>).count]));
    assert.deepEqual(counted, expected);
  });

  it("a field without names is a named error listing the fields that have names", () => {
    assert.throws(() => anyTracepoint("sock:inet_sock_set_state", { names: ["sport"] }), (e: unknown) => e instanceof InvalidArgumentError && /fields with names: .*newstate/.test((e as Error).message));
  });
});
