/* analysis/names against this machine: its BTF, every tracepoint's print fmt, the
 * kernel's own trace text (a private tracefs instance) as the yardstick, and a TCP
 * connection traced through tracepoint() whose state names must be the exact sequence. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import { describe, it } from "node:test";
import * as aq from "arquero";
import { listTracepoints, readFormat } from "../bpf-lib/src/tracefs/catalog.js";
import { findTracefs } from "../bpf-lib/src/tracefs/mount.js";
import { UnknownFieldError } from "../bpf-lib/src/tracefs/errors.js";
import { InvalidArgumentError } from "../bpf-lib/src/errors.js";
import { tracepoint } from "../bpf-lib/src/probes/tracepoint/probe.js";
import { BtfEnums, enumNames, capabilityName, fieldNames, namedFields, printFmtOf, uapiSources, withNames } from "../bpf-lib/src/analysis/names/index.js";

const btf = BtfEnums.tryVmlinux();
const noBtf = btf ? false : "the kernel has no BTF (/sys/kernel/btf/vmlinux)";
if (noBtf) console.log(`# skipping the BTF checks: ${noBtf}`);

/** Runs `during` with `event` enabled (and filtered) in a private tracefs instance; returns the event's text lines. */
async function kernelText(event: string, filter: string, during: () => Promise<void>): Promise<string[]> {
  const root = `${findTracefs()}/instances/bpfbook-names-${process.pid}`;
  const [group, name] = event.split(":");
  mkdirSync(root);
  try {
    writeFileSync(`${root}/events/${group}/${name}/filter`, filter);
    writeFileSync(`${root}/events/${group}/${name}/enable`, "1");
    try {
      await during();
    } finally {
      writeFileSync(`${root}/events/${group}/${name}/enable`, "0");
    }
    return readFileSync(`${root}/trace`, "utf8").split("\n").filter((l) => l.includes(`${name}: `)).map((l) => l.slice(l.indexOf(`${name}: `) + name!.length + 2));
  } finally {
    rmdirSync(root);
  }
}

/** `key=value` pairs of a trace line (values without spaces). */
const pairs = (line: string) => Object.fromEntries([...line.matchAll(/(\w+)=(\S*)/g)].map((m) => [m[1]!, m[2]!]));

describe("names from this kernel's print fmt and BTF", { skip: noBtf }, () => {
  it("scans every tracepoint: counts the fields with names, and only two-field arguments fail", () => {
    let fields = 0, tables = 0, addresses = 0, tps = 0;
    const problems: string[] = [];
    for (const tp of listTracepoints()) {
      const p = printFmtOf(readFormat(tp));
      fields += p.fields.size;
      tables += [...p.fields.values()].filter((f) => f.tables.length > 0).length;
      addresses += p.addresses.size;
      if (p.fields.size + p.addresses.size > 0) tps++;
      for (const x of p.problems) problems.push(`${tp} argument ${x.argument} (${x.fields.join(", ")}): ${x.reason}`);
    }
    console.log(`# ${fields} fields named by print fmt (${tables} through __print_symbolic/__print_flags, ${fields - tables} by ?: text), ${addresses} address fields, in ${tps} tracepoints; ${problems.length} arguments without names:`);
    for (const p of problems) console.log(`#   ${p}`);
    assert.ok(tables > 800, `${tables} fields with tables`);
    // Everything else on this kernel parses and evaluates: the failures are arguments whose table depends on two fields (kvm's isa + exit reason).
    for (const p of problems) assert.match(p, /reads \d+ fields/);
  });

  it("sock:inet_sock_set_state: states, families, protocols; the states agree with BTF's anonymous enum", () => {
    const state = fieldNames("sock:inet_sock_set_state", "newstate")!;
    assert.equal(state.from, "print fmt: __print_symbolic");
    assert.equal(state(1), "TCP_ESTABLISHED");
    assert.equal(state(7), "TCP_CLOSE");
    assert.equal(state(10), "TCP_LISTEN");
    const family = fieldNames("sock:inet_sock_set_state", "family")!;
    assert.equal(family(2), "AF_INET");
    assert.equal(family(10), "AF_INET6");
    assert.equal(fieldNames("sock:inet_sock_set_state", "protocol")!(6), "IPPROTO_TCP");
    const printed = printFmtOf(readFormat("sock:inet_sock_set_state")).fields.get("newstate")!.tables[0]!.entries;
    const fromBtf = enumNames({ member: "TCP_ESTABLISHED", prefix: "TCP_" }, {}, btf!);
    assert.equal(printed.length, 12);
    for (const e of printed) assert.equal(fromBtf.find((b) => b.name === e.name)?.value, e.value, `${e.name} in print fmt and BTF`);
    assert.equal(fieldNames("sock:inet_sock_set_state", "sport"), null, "sport is a host-order __u16: its number is its name");
  });

  it("skb:kfree_skb reason: print fmt's names are BTF's enum skb_drop_reason without SKB_DROP_REASON_", () => {
    const reason = fieldNames("skb:kfree_skb", "reason")!;
    assert.equal(reason(2), "NOT_SPECIFIED");
    assert.equal(reason(3), "NO_SOCKET");
    assert.equal(btf!.constant("SKB_DROP_REASON_NOT_SPECIFIED")?.v, 2n);
    const printed = printFmtOf(readFormat("skb:kfree_skb")).fields.get("reason")!.tables[0]!.entries;
    const fromBtf = new Map(enumNames("enum skb_drop_reason", { prefix: "SKB_DROP_REASON_", strip: true }, btf!).map((e) => [e.name, e.value]));
    console.log(`# kfree_skb: ${printed.length} reasons in print fmt, ${fromBtf.size} in BTF`);
    assert.ok(printed.length > 100);
    for (const e of printed) assert.equal(fromBtf.get(e.name), e.value, `${e.name}: print fmt ${e.value}, BTF ${fromBtf.get(e.name)}`);
    assert.equal(reason(1000), "0x3e8", "a value print fmt does not list reads as the kernel prints it");
  });

  it("writeback flags: the kernel left I_* as enumerators; BTF gives their values", () => {
    const state = fieldNames("writeback:writeback_dirty_inode_start", "state")!;
    const v = (n: string) => btf!.constant(n)!.v;
    assert.equal(state(v("I_DIRTY_SYNC") | v("I_NEW")), "I_DIRTY_SYNC|I_NEW", "in the order print fmt lists them");
    assert.equal(state(v("I_DIRTY_PAGES")), "I_DIRTY_PAGES");
    assert.equal(state(0), "");
    assert.equal(state(1n << 40n), "0x10000000000", "a bit no entry names stays hex");
  });

  it("gfp flags and the I/O priority class: casts, shifts and a table over part of a field", () => {
    const bit = (n: string) => 1n << btf!.constant(n)!.v;
    // GFP_KERNEL is __GFP_RECLAIM | __GFP_IO | __GFP_FS (include/linux/gfp_types.h); BTF has the bit numbers.
    const kernel = bit("___GFP_DIRECT_RECLAIM_BIT") | bit("___GFP_KSWAPD_RECLAIM_BIT") | bit("___GFP_IO_BIT") | bit("___GFP_FS_BIT");
    const gfp = fieldNames("kmem:kmalloc", "gfp_flags")!;
    assert.equal(gfp(kernel), "GFP_KERNEL");
    assert.equal(gfp(0), "none", "print fmt says (gfp_flags) ? __print_flags(...) : \"none\"");
    assert.equal(gfp(bit("___GFP_DIRECT_RECLAIM_BIT")), "__GFP_DIRECT_RECLAIM");
    const ioprio = fieldNames("block:block_rq_issue", "ioprio")!;
    assert.equal(ioprio((btf!.constant("IOPRIO_CLASS_BE")!.v << 13n) | 4n), "be", "the class is ioprio >> 13; the level (4) is printed by another argument");
    assert.equal(ioprio(0), "none");
  });

  it("sched:sched_switch prev_state: the same text as the kernel's own trace output", async () => {
    const d = fieldNames("sched:sched_switch", "prev_state")!;
    const seen: string[] = [];
    // One value at a time, filtered in the kernel, so every line shows that value's text.
    for (const value of [0, 1, 2, 0x80, 0x100]) {
      const lines = await kernelText("sched:sched_switch", `prev_state == ${value}`, () => new Promise((r) => setTimeout(r, 120)));
      const texts = [...new Set(lines.map((l) => /prev_state=(\S+) ==>/.exec(l)?.[1]))];
      if (lines.length === 0) continue;
      assert.deepEqual(texts, [d(value)], `prev_state ${value}`);
      seen.push(`${value}=${texts[0]}`);
    }
    console.log(`# prev_state values seen and matched: ${seen.join(" ")}`);
    assert.ok(seen.includes("1=S"), "this process sleeps in the timer: at least S was seen");
  });

  it("a BTF enum by the field's C type, where print fmt prints only the number", () => {
    const lru = fieldNames("pagemap:mm_lru_insertion", "lru")!;
    assert.equal(lru.from, "BTF enum lru_list");
    assert.equal(lru(Number(btf!.constant("LRU_ACTIVE_FILE")!.v)), "LRU_ACTIVE_FILE");
  });
});

describe("names with no BTF enum and no print fmt", () => {
  it("withNames on syscall, signal and capability columns", () => {
    const t = withNames(aq.table({ ret: [-2, 3, -13, -4096] }), "syscalls:sys_exit_openat");
    assert.deepEqual(t.array("ret_name"), ["ENOENT", null, "EACCES", null]);
    assert.deepEqual(Array.from(t.array("ret") as ArrayLike<number>), [-2, 3, -13, -4096], "the numbers stay");
    const o = withNames(aq.table({ flags: [0, 0o1101, 0o2000100], dfd: [1, 2, 3] }), "syscalls:sys_enter_openat");
    assert.deepEqual(o.array("flags_name"), ["O_RDONLY", "O_WRONLY|O_CREAT|O_TRUNC", "O_RDONLY|O_CREAT|O_CLOEXEC"]);
    assert.deepEqual(o.columnNames(), ["flags", "dfd", "flags_name"], "dfd has no names");
    assert.deepEqual(withNames(aq.table({ sig: [9, 15, 34] }), "signal:signal_generate").array("sig_name"), ["SIGKILL", "SIGTERM", "SIGRT_2"]);
    assert.deepEqual(withNames(aq.table({ cap: [21, 39] }), "capability:cap_capable").array("cap_name"), ["CAP_SYS_ADMIN", "CAP_BPF"]);
    console.log(`# name sources here: ${JSON.stringify(uapiSources())}`);
  });

  it("capability names agree with libcap's (capsh --decode), an independent table", (t) => {
    let out: string;
    try {
      out = execFileSync("capsh", ["--decode=0xffffffffff"], { encoding: "utf8" });
    } catch {
      t.skip("capsh (libcap2-bin) is not installed");
      return;
    }
    const libcap = out.trim().split("=")[1]!.split(",");
    assert.ok(libcap.length >= 40);
    libcap.forEach((name, i) => assert.equal(capabilityName(i), /^\d+$/.test(name) ? String(i) : name.toUpperCase(), `capability ${i}`));
  });

  it("named errors for what cannot be named", () => {
    const t = aq.table({ newstate: [1], sport: [80] });
    assert.throws(() => withNames(t, "sock:inet_sock_set_state", ["newstat"]), UnknownFieldError);
    assert.throws(() => withNames(t, "sock:inet_sock_set_state", ["sport"]), (e: Error) => e instanceof InvalidArgumentError && /has no names.*fields with names: oldstate, newstate, family/.test(e.message));
    assert.throws(() => withNames(t, "sock:inet_sock_set_state", ["oldstate"]), (e: Error) => e instanceof InvalidArgumentError && /no column "oldstate".*nearest: newstate/.test(e.message));
    assert.throws(() => withNames({} as aq.ColumnTable, "sock:inet_sock_set_state"), InvalidArgumentError);
    assert.throws(() => withNames(t, "sock:inet_sock_set_state", "newstate" as unknown as string[]), InvalidArgumentError);
    assert.throws(() => fieldNames("sock:inet_sock_set_state", 3 as unknown as string), InvalidArgumentError);
    assert.throws(() => fieldNames("sock:inet_sock_set_state", "newstate")!(1.5), InvalidArgumentError);
    assert.equal(fieldNames("sock:inet_sock_set_state", "newstate")!(null), null);
    assert.deepEqual(namedFields("sock:inet_sock_set_state").map((f) => f.field), ["oldstate", "newstate", "family", "protocol", "saddr", "daddr", "saddr_v6", "daddr_v6"]);
  });
});

describe("a traced TCP connection, named", () => {
  it("gives each socket its exact state sequence and 127.0.0.1 addresses, as the kernel's text does", async () => {
    const server = net.createServer((s) => s.end()); // the server closes first
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as net.AddressInfo).port;
    const trace = tracepoint("sock:inet_sock_set_state").start({ seconds: 30 });
    let clientPort = 0;
    const kernel = await kernelText("sock:inet_sock_set_state", `sport == ${port} || dport == ${port}`, async () => {
      await new Promise<void>((resolve) => {
        const c = net.connect(port, "127.0.0.1", () => { clientPort = c.localPort!; });
        c.on("end", () => c.end());
        c.on("close", () => resolve());
        c.resume();
      });
      await new Promise<void>((r) => server.close(() => r()));
    });
    const all = await trace.table();
    const mine = withNames(all.params({ port }).filter((d: { sport: number; dport: number }, $: { port: number }) => d.sport === $.port || d.dport === $.port).orderby("ts"), "sock:inet_sock_set_state");
    const rows = mine.objects() as Array<Record<string, string | number | bigint>>;
    const bySocket = new Map<bigint, string[]>();
    for (const r of rows) bySocket.set(r.skaddr as bigint, [...(bySocket.get(r.skaddr as bigint) ?? []), `${r.oldstate_name}>${r.newstate_name}`]);
    const sequences = [...bySocket.values()].map((s) => s.join(" ")).sort();
    assert.deepEqual(sequences, [
      // the client: connect, then the passive close
      "TCP_CLOSE>TCP_SYN_SENT TCP_SYN_SENT>TCP_ESTABLISHED TCP_ESTABLISHED>TCP_CLOSE_WAIT TCP_CLOSE_WAIT>TCP_LAST_ACK TCP_LAST_ACK>TCP_CLOSE",
      // the listener, closed at the end
      "TCP_LISTEN>TCP_CLOSE",
      // the server's socket for the connection: it sends the first FIN
      "TCP_LISTEN>TCP_SYN_RECV TCP_SYN_RECV>TCP_ESTABLISHED TCP_ESTABLISHED>TCP_FIN_WAIT1 TCP_FIN_WAIT1>TCP_FIN_WAIT2 TCP_FIN_WAIT2>TCP_CLOSE",
    ]);
    const established = rows.find((r) => r.newstate_name === "TCP_ESTABLISHED" && r.sport === clientPort)!;
    assert.equal(established.newstate, 1, "the number stays next to its name");
    for (const r of rows) {
      assert.equal(r.family_name, "AF_INET");
      assert.equal(r.protocol_name, "IPPROTO_TCP");
      assert.equal(r.saddr_name, "127.0.0.1");
      assert.equal(r.saddr_v6_name, "::ffff:127.0.0.1", "an IPv4 socket's v6 fields hold the mapped address");
      assert.equal(r.daddr_name, r.dport === 0 ? "0.0.0.0" : "127.0.0.1");
    }
    // The kernel's own text for the same events, field by field.
    const ours = rows.map((r) => `family=${r.family_name} protocol=${r.protocol_name} sport=${r.sport} dport=${r.dport} saddr=${r.saddr_name} daddr=${r.daddr_name} saddrv6=${r.saddr_v6_name} daddrv6=${r.daddr_v6_name} oldstate=${r.oldstate_name} newstate=${r.newstate_name}`);
    const theirs = kernel.map((l) => Object.entries(pairs(l)).map(([k, v]) => `${k}=${v}`).join(" "));
    assert.equal(theirs.length, 11, "the kernel printed the 11 transitions");
    assert.deepEqual([...ours].sort(), [...theirs].sort());
  });
});
