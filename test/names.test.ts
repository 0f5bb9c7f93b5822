/* analysis/names, the pure parts: the C expression evaluator, the kernel's symbol and
 * flag printing, print fmt parsing on formats copied from a 6.18 kernel, a BTF blob
 * built here byte by byte, address formatting and uapi #define parsing. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseFormat } from "../bpf-lib/src/tracefs/format.js";
import { InvalidArgumentError, NotSupportedError } from "../bpf-lib/src/errors.js";
import { CExprError, evaluate, literal, parseExpr, splitTopLevel, type CInt, type EvalEnv } from "../bpf-lib/src/analysis/names/c-expr.js";
import { BtfEnums, enumNames, enumDecoder } from "../bpf-lib/src/analysis/names/btf-enums.js";
import { conversions, printFmtNames, type NameSource } from "../bpf-lib/src/analysis/names/print-fmt.js";
import { flagNames, symbolName } from "../bpf-lib/src/analysis/names/print-flags.js";
import { bytesOf, formatIPv4, formatIPv6, formatMac, formatSockaddr, portFromNetwork } from "../bpf-lib/src/analysis/names/format-addr.js";
import { evaluateDefines, parseDefines, openFlagNames, signalName } from "../bpf-lib/src/analysis/names/uapi.js";

const NONE: EvalEnv = { constant: () => undefined, type: () => undefined };
const val = (src: string, env: EvalEnv = NONE): CInt => {
  const v = evaluate(parseExpr(src), env);
  assert.equal(typeof v, "object", `${src} is a number`);
  return v as CInt;
};

describe("C expressions", () => {
  it("types integer literals as C does on LP64", () => {
    assert.deepEqual(literal("1"), { v: 1n, bits: 32, unsigned: false });
    assert.deepEqual(literal("0x80000000"), { v: 0x80000000n, bits: 32, unsigned: true }, "hex that misses int is unsigned int");
    assert.deepEqual(literal("2147483648"), { v: 2147483648n, bits: 64, unsigned: false }, "decimal that misses int is long");
    assert.deepEqual(literal("9ULL"), { v: 9n, bits: 64, unsigned: true });
    assert.deepEqual(literal("010"), { v: 8n, bits: 32, unsigned: false }, "octal");
    assert.deepEqual(literal("1u"), { v: 1n, bits: 32, unsigned: true });
    assert.throws(() => literal("1uu"), CExprError);
  });

  it("wraps, promotes and converts like the kernel's compiler", () => {
    assert.equal(val("-9ULL").v, 2n ** 64n - 9n);
    assert.equal(val("-1").v, -1n);
    assert.equal(val("1u << 31").v, 0x80000000n);
    assert.equal(val("~0u").v, 0xffffffffn);
    assert.equal(val("~0UL").v, 2n ** 64n - 1n);
    assert.equal(val("-1 < 0u").v, 0n, "-1 converts to unsigned int: UINT_MAX is not below 0");
    assert.equal(val("-1L < 0u").v, 1n, "long holds every unsigned int: stays -1");
    assert.equal(val("(unsigned char)0x1ff").v, 0xffn);
    assert.equal(val("(signed char)0xff").v, -1n);
    assert.equal(val("(unsigned long)-1").v, 2n ** 64n - 1n);
    assert.equal(val("(bool)7").v, 1n);
    assert.equal(val("-7 / 2").v, -3n, "division truncates toward zero");
    assert.equal(val("-7 % 2").v, -1n);
    assert.equal(val("1 ? 2 : 3").v, 2n);
    assert.equal(val("0 && (1 / 0)").v, 0n, "&& does not evaluate its right side after a false left");
    assert.equal(val("((((0x00000000 | 0x00000001 | 0x00000002) + 1) << 1) - 1)").v, 7n);
    assert.equal(val("__builtin_bswap16(0x1234)").v, 0x3412n);
    assert.equal(val("'R'").v, 82n);
    assert.throws(() => val("1 << 32"), /shift by 32 of a 32-bit value/);
    assert.throws(() => val("1 / 0"), /division by zero/);
    assert.throws(() => val("sizeof(int)"), /sizeof/);
    assert.throws(() => val("a->b"), CExprError);
  });

  it("tells casts from parenthesized names", () => {
    const env: EvalEnv = {
      constant: (n) => (n === "FOO" ? { v: 5n, bits: 32, unsigned: false } : n === "BAR" ? { v: 3n, bits: 32, unsigned: false } : undefined),
      type: (n) => (n === "gfp_t" ? { bits: 32, signed: false } : undefined),
    };
    assert.equal(val("(FOO) - 1", env).v, 4n, "(FOO) - 1 subtracts");
    assert.equal(val("(FOO * BAR)", env).v, 15n, "(A * B) multiplies");
    assert.equal(val("(gfp_t)-1", env).v, 0xffffffffn, "(gfp_t)-1 casts");
    assert.equal(val("~(( gfp_t)4)", env).v, 0xfffffffbn, "~ of an unsigned int stays 32 bits");
    assert.equal(val("( unsigned long)(( gfp_t)((((1UL))) << (2)))", env).v, 4n);
    assert.throws(() => val("(nosuch_t)1", env), /unknown type "nosuch_t"/);
    assert.throws(() => val("NOPE", env), /unknown name NOPE/);
  });

  it("reads string literals with escapes, adjacent ones joined", () => {
    assert.equal(evaluate(parseExpr(String.raw`"a\tb" "c\"d\x41\101\012\0"`), NONE), 'a\tbc"dAA\n\0');
  });

  it("splits at top-level commas only", () => {
    assert.deepEqual(splitTopLevel(`"a, b", f(1, 2), { 3, "x,y" }, 'c'`), [`"a, b"`, "f(1, 2)", `{ 3, "x,y" }`, "'c'"]);
  });
});

describe("the kernel's symbol and flag printing", () => {
  const E = [{ value: 1n, name: "A" }, { value: 2n, name: "B" }, { value: 6n, name: "BC" }, { value: 4n, name: "C" }];
  it("symbolic: the first equal entry, else 0x<hex> of the unsigned long", () => {
    assert.equal(symbolName(E, 2n), "B");
    assert.equal(symbolName(E, 16n), "0x10");
    assert.equal(symbolName([{ value: -1n, name: "M1" }], 2n ** 64n - 1n), "M1", "compared as unsigned long");
    assert.equal(symbolName(E, -1n), "0xffffffffffffffff");
  });
  it("flags: entries in order, multi-bit ones whole, leftovers in hex, 0 empty", () => {
    assert.equal(flagNames(E, 7n), "A|B|C", "B is taken before BC reaches its turn");
    assert.equal(flagNames(E.slice(2), 6n), "BC");
    assert.equal(flagNames(E, 0x41n, ","), "A,0x40");
    assert.equal(flagNames(E, 0n), "");
  });
});

// Formats copied from this project's 6.18 kernel (trimmed where marked).
const COMMON = `\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;
`;

const SCHED_SWITCH = parseFormat(`name: sched_switch
ID: 330
format:
${COMMON}
\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;
\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;
\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;
\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;
\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;
\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;
\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;

print fmt: "prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d", REC->prev_comm, REC->prev_pid, REC->prev_prio, (REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1)) ? __print_flags(REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) - 1), "|", { 0x00000001, "S" }, { 0x00000002, "D" }, { 0x00000004, "T" }, { 0x00000008, "t" }, { 0x00000010, "X" }, { 0x00000020, "Z" }, { 0x00000040, "P" }, { 0x00000080, "I" }) : "R", REC->prev_state & (((0x00000000 | 0x00000001 | 0x00000002 | 0x00000004 | 0x00000008 | 0x00000010 | 0x00000020 | 0x00000040) + 1) << 1) ? "+" : "", REC->next_comm, REC->next_pid, REC->next_prio
`, "sched", "sched_switch");

const INET_SOCK_SET_STATE = parseFormat(`name: inet_sock_set_state
ID: 2287
format:
${COMMON}
\tfield:const void * skaddr;\toffset:8;\tsize:8;\tsigned:0;
\tfield:int oldstate;\toffset:16;\tsize:4;\tsigned:1;
\tfield:int newstate;\toffset:20;\tsize:4;\tsigned:1;
\tfield:__u16 sport;\toffset:24;\tsize:2;\tsigned:0;
\tfield:__u16 dport;\toffset:26;\tsize:2;\tsigned:0;
\tfield:__u16 family;\toffset:28;\tsize:2;\tsigned:0;
\tfield:__u16 protocol;\toffset:30;\tsize:2;\tsigned:0;
\tfield:__u8 saddr[4];\toffset:32;\tsize:4;\tsigned:0;
\tfield:__u8 daddr[4];\toffset:36;\tsize:4;\tsigned:0;
\tfield:__u8 saddr_v6[16];\toffset:40;\tsize:16;\tsigned:0;
\tfield:__u8 daddr_v6[16];\toffset:56;\tsize:16;\tsigned:0;

print fmt: "family=%s protocol=%s sport=%hu dport=%hu saddr=%pI4 daddr=%pI4 saddrv6=%pI6c daddrv6=%pI6c oldstate=%s newstate=%s", __print_symbolic(REC->family, { 2, "AF_INET" }, { 10, "AF_INET6" }), __print_symbolic(REC->protocol, { 6, "IPPROTO_TCP" }, { 132, "IPPROTO_SCTP" }, { 262, "IPPROTO_MPTCP" }), REC->sport, REC->dport, REC->saddr, REC->daddr, REC->saddr_v6, REC->daddr_v6, __print_symbolic(REC->oldstate, { 1, "TCP_ESTABLISHED" }, { 2, "TCP_SYN_SENT" }, { 3, "TCP_SYN_RECV" }, { 4, "TCP_FIN_WAIT1" }, { 5, "TCP_FIN_WAIT2" }, { 6, "TCP_TIME_WAIT" }, { 7, "TCP_CLOSE" }, { 8, "TCP_CLOSE_WAIT" }, { 9, "TCP_LAST_ACK" }, { 10, "TCP_LISTEN" }, { 11, "TCP_CLOSING" }, { 12, "TCP_NEW_SYN_RECV" }), __print_symbolic(REC->newstate, { 1, "TCP_ESTABLISHED" }, { 2, "TCP_SYN_SENT" }, { 3, "TCP_SYN_RECV" }, { 4, "TCP_FIN_WAIT1" }, { 5, "TCP_FIN_WAIT2" }, { 6, "TCP_TIME_WAIT" }, { 7, "TCP_CLOSE" }, { 8, "TCP_CLOSE_WAIT" }, { 9, "TCP_LAST_ACK" }, { 10, "TCP_LISTEN" }, { 11, "TCP_CLOSING" }, { 12, "TCP_NEW_SYN_RECV" })
`, "sock", "inet_sock_set_state");

// writeback_dirty_inode_start, its table trimmed to three entries: names the kernel left as enumerators.
const WRITEBACK = parseFormat(`name: writeback_dirty_inode_start
ID: 1046
format:
${COMMON}
\tfield:char name[32];\toffset:8;\tsize:32;\tsigned:0;
\tfield:ino_t ino;\toffset:40;\tsize:8;\tsigned:0;
\tfield:unsigned long state;\toffset:48;\tsize:8;\tsigned:0;
\tfield:unsigned long flags;\toffset:56;\tsize:8;\tsigned:0;

print fmt: "bdi %s: ino=%lu state=%s flags=%s", REC->name, (unsigned long)REC->ino, __print_flags(REC->state, "|", {I_DIRTY_SYNC, "I_DIRTY_SYNC"}, {I_DIRTY_DATASYNC, "I_DIRTY_DATASYNC"}, {I_NEW, "I_NEW"} ), __print_flags(REC->flags, "|", {I_DIRTY_SYNC, "I_DIRTY_SYNC"}, {I_NOSUCH, "I_NOSUCH"} )
`, "writeback", "writeback_dirty_inode_start");

// mem_connect ends its table the kernel's way, with a NULL name; kvm_exit's table depends on two fields (trimmed).
const MEM_CONNECT = parseFormat(`name: mem_connect
ID: 1200
format:
${COMMON}
\tfield:u32 mem_id;\toffset:8;\tsize:4;\tsigned:0;
\tfield:u32 mem_type;\toffset:12;\tsize:4;\tsigned:0;
\tfield:u32 isa;\toffset:16;\tsize:4;\tsigned:0;
\tfield:__be32 addr;\toffset:20;\tsize:4;\tsigned:0;

print fmt: "mem_id=%d mem_type=%s x=%s %pI4 %*d", REC->mem_id, __print_symbolic(REC->mem_type, { 0, "PAGE_SHARED" }, { 1, "PAGE_ORDER0" }, { -1, 0 }), (REC->isa == 1) ? __print_symbolic(REC->mem_id, { 1, "ONE" }) : __print_symbolic(REC->mem_id, { 1, "UNO" }), &REC->addr, 4, REC->mem_id
`, "xdp", "mem_connect");

const ENUMERATORS: Record<string, bigint> = { I_NEW: 1n, I_DIRTY_SYNC: 16n, I_DIRTY_DATASYNC: 32n };
const BTF_LIKE: NameSource = {
  constant: (n) => (n in ENUMERATORS ? { v: ENUMERATORS[n]!, bits: 32, unsigned: false } : undefined),
  type: () => undefined,
};

describe("print fmt", () => {
  it("maps arguments to conversions, with the text before each", () => {
    assert.deepEqual(conversions("a=%s%s b=%*d %% %pI6c:%hu %pISpc %lx"), [
      { conv: "%s", before: "a=" }, { conv: "%s", before: "" }, { conv: "*", before: " b=" }, { conv: "%d", before: "" },
      { conv: "%pI6c", before: " % " }, { conv: "%u", before: ":" }, { conv: "%pISpc", before: " " }, { conv: "%x", before: " " },
    ]);
  });

  it("sched_switch prev_state: flags, R when none is set, + after a preempted task", () => {
    const p = printFmtNames(SCHED_SWITCH, BTF_LIKE);
    assert.deepEqual([...p.fields.keys()], ["prev_state"]);
    assert.deepEqual(p.problems, []);
    const d = p.fields.get("prev_state")!;
    assert.deepEqual([0, 1, 2, 3, 0x80, 0x100, 0x101, 0x400].map((v) => d.decode(v)), ["R", "S", "D", "S|D", "I", "R+", "S+", "R"]);
    assert.equal(d.tables.length, 1);
    assert.equal(d.tables[0]!.entries.length, 8);
  });

  it("inet_sock_set_state: states, families, protocols, and its addresses", () => {
    const p = printFmtNames(INET_SOCK_SET_STATE, BTF_LIKE);
    assert.deepEqual([...p.fields.keys()], ["family", "protocol", "oldstate", "newstate"]);
    const state = p.fields.get("newstate")!;
    assert.equal(state.decode(1), "TCP_ESTABLISHED");
    assert.equal(state.decode(7), "TCP_CLOSE");
    assert.equal(state.decode(13), "0xd", "an unlisted value prints as the kernel prints it");
    assert.equal(p.fields.get("family")!.decode(10n), "AF_INET6");
    assert.equal(p.fields.get("protocol")!.decode(262), "IPPROTO_MPTCP");
    assert.deepEqual([...p.addresses.values()].map((a) => `${a.field}:${a.kind}`), ["saddr:ipv4", "daddr:ipv4", "saddr_v6:ipv6", "daddr_v6:ipv6"]);
  });

  it("evaluates enumerator names through the name source and reports the ones it lacks", () => {
    const p = printFmtNames(WRITEBACK, BTF_LIKE);
    assert.equal(p.fields.get("state")!.decode(16 | 1 | 0x400), "I_DIRTY_SYNC|I_NEW|0x400");
    assert.equal(p.fields.has("flags"), false);
    assert.equal(p.problems.length, 1);
    assert.deepEqual(p.problems[0]!.fields, ["flags"]);
    assert.match(p.problems[0]!.reason, /I_NOSUCH: unknown name I_NOSUCH/);
    const none = printFmtNames(WRITEBACK, { constant: () => undefined, type: () => undefined });
    assert.equal(none.fields.size, 0, "without BTF, a table of enumerators cannot be evaluated");
    assert.equal(none.problems.length, 2);
  });

  it("stops a table at the NULL name, refuses two-field arguments, finds &REC->addr", () => {
    const p = printFmtNames(MEM_CONNECT, BTF_LIKE);
    const t = p.fields.get("mem_type")!;
    assert.deepEqual(t.tables[0]!.entries.map((e) => e.name), ["PAGE_SHARED", "PAGE_ORDER0"]);
    assert.equal(t.decode(2 ** 32 - 1), "0xffffffff", "the terminator's value is not a name");
    assert.deepEqual(p.problems.map((x) => x.fields), [["isa", "mem_id"]]);
    assert.match(p.problems[0]!.reason, /reads 2 fields/);
    assert.deepEqual(p.addresses.get("addr"), { field: "addr", argument: 3, conversion: "%pI4", kind: "ipv4", port: false });
  });

  it("names a decoding input that is not an integer", () => {
    const d = printFmtNames(INET_SOCK_SET_STATE, BTF_LIKE).fields.get("family")!;
    assert.throws(() => d.decode(1.5), InvalidArgumentError);
  });
});

/** A raw BTF blob: 24-byte header, types, strings. */
function btfBlob(types: number[][], strings: string): Uint8Array {
  const words = types.flat();
  const str = new TextEncoder().encode(strings);
  const out = new Uint8Array(24 + words.length * 4 + str.length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, 0xeb9f, true);
  dv.setUint8(2, 1);
  dv.setUint32(4, 24, true);
  dv.setUint32(8, 0, true);
  dv.setUint32(12, words.length * 4, true);
  dv.setUint32(16, words.length * 4, true);
  dv.setUint32(20, str.length, true);
  words.forEach((w, i) => dv.setUint32(24 + i * 4, w >>> 0, true));
  out.set(str, 24 + words.length * 4);
  return out;
}
const info = (kind: number, vlen: number, kflag = 0) => ((kflag << 31) | (kind << 24) | vlen) >>> 0;
const strs = (names: string[]) => {
  const off = new Map<string, number>();
  let s = "\0";
  for (const n of names) { off.set(n, s.length); s += `${n}\0`; }
  return { s, off: (n: string) => off.get(n)! };
};

describe("BTF enums from a raw blob", () => {
  const S = strs(["int", "unsigned int", "gfp_t", "TCP_A", "TCP_B", "colors", "RED", "GREEN", "big", "HUGE", "state_t"]);
  const o = S.off;
  const base = BtfEnums.parse(btfBlob([
    [o("int"), info(1, 0), 4, (1 << 24) | 32], //                     1: int
    [o("unsigned int"), info(1, 0), 4, 32], //                        2: unsigned int
    [o("gfp_t"), info(8, 0), 2], //                                   3: typedef gfp_t
    [0, info(6, 2), 4, o("TCP_A"), 1, o("TCP_B"), 2], //              4: enum { TCP_A = 1, TCP_B }
    [o("colors"), info(6, 2, 1), 4, o("RED"), -1, o("GREEN"), 0], //  5: enum colors, signed
    [o("big"), info(19, 1), 8, o("HUGE"), 0, 0x100], //               6: enum64 big { HUGE = 1 << 40 }
    [o("state_t"), info(8, 0), 4], //                                 7: typedef enum {...} state_t
  ], S.s));

  it("reads enums, enumerators and typedef widths", () => {
    assert.equal(base.typeCount, 8);
    assert.deepEqual(base.byName("enum colors")?.members, [{ name: "RED", value: -1n }, { name: "GREEN", value: 0n }]);
    assert.equal(base.containing("TCP_B")?.name, "");
    assert.deepEqual(base.constant("HUGE"), { v: 1n << 40n, bits: 64, unsigned: true });
    assert.deepEqual(base.constant("RED"), { v: -1n, bits: 32, unsigned: false });
    assert.deepEqual(base.type("gfp_t"), { bits: 32, signed: false });
    assert.deepEqual(base.type("enum big"), { bits: 64, signed: false });
    assert.equal(base.enumOfType("const state_t")?.members[0]!.name, "TCP_A");
    assert.equal(base.enumOfType("enum colors")?.name, "colors");
  });

  it("value → name maps by enum name or by an enumerator, with prefix and strip", () => {
    assert.deepEqual(enumNames({ member: "TCP_A" }, { prefix: "TCP_", strip: true }, base), [{ value: 1n, name: "A" }, { value: 2n, name: "B" }]);
    assert.equal(enumDecoder({ member: "TCP_B" }, {}, base)(2), "TCP_B");
    assert.equal(enumDecoder({ member: "TCP_B" }, {}, base)(3), "TCP_A|TCP_B", "single-bit enumerators decode unknown values as flags");
    assert.equal(enumDecoder("colors", {}, base)(-1), "RED");
    assert.equal(enumDecoder({ member: "TCP_B" }, { flags: false }, base)(3), "0x3");
    assert.throws(() => enumNames("enum colours", {}, base), (e: Error) => e instanceof InvalidArgumentError && /nearest: enum colors/.test(e.message));
    assert.throws(() => enumNames({ member: "TCP_C" }, {}, base), (e: Error) => e instanceof InvalidArgumentError && /TCP_A|TCP_B/.test(e.message));
  });

  it("reads a module's split BTF on top of its base", () => {
    const M = ["mod_enum", "MOD_X", "mod_t"];
    const off = (n: string) => base.strLen + 1 + M.slice(0, M.indexOf(n)).reduce((a, s) => a + s.length + 1, 0);
    const mod = BtfEnums.parse(btfBlob([
      [off("mod_enum"), info(6, 1), 4, off("MOD_X"), 7], //          8: enum mod_enum
      [off("mod_t"), info(8, 0), 2], //                              9: typedef unsigned int (a base type) mod_t
    ], `\0${M.join("\0")}\0`), base);
    assert.equal(mod.typeCount, 10);
    assert.deepEqual(mod.byName("mod_enum")?.members, [{ name: "MOD_X", value: 7n }]);
    assert.deepEqual(mod.type("mod_t"), { bits: 32, signed: false });
  });

  it("refuses what is not BTF", () => {
    assert.throws(() => BtfEnums.parse(new Uint8Array(32)), NotSupportedError);
  });
});

describe("addresses", () => {
  const v6 = (s: string) => Uint8Array.from(s.split(" ").map((h) => parseInt(h, 16)));
  it("IPv4 from bytes and from a __be32 read little-endian", () => {
    assert.equal(formatIPv4(Uint8Array.from([127, 0, 0, 1])), "127.0.0.1");
    assert.equal(formatIPv4(bytesOf(0x0100007f, 4)), "127.0.0.1");
    assert.equal(formatIPv4(bytesOf([10, 1, 2, 3], 4)), "10.1.2.3");
  });
  it("IPv6 per RFC 5952", () => {
    assert.equal(formatIPv6(v6("20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01")), "2001:db8::1");
    assert.equal(formatIPv6(v6("20 01 0d b8 00 00 00 01 00 00 00 00 00 00 00 01")), "2001:db8:0:1::1", "the longest run of zeros");
    assert.equal(formatIPv6(v6("20 01 0d b8 00 00 00 00 00 01 00 00 00 00 00 01")), "2001:db8::1:0:0:1", "the first of equal runs");
    assert.equal(formatIPv6(v6("20 01 0d b8 00 00 00 01 00 01 00 01 00 01 00 01")), "2001:db8:0:1:1:1:1:1", "one zero group stays");
    assert.equal(formatIPv6(v6("00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00")), "::");
    assert.equal(formatIPv6(v6("00 00 00 00 00 00 00 00 00 00 ff ff 7f 00 00 01")), "::ffff:127.0.0.1", "IPv4-mapped keeps the dotted tail");
    assert.equal(formatIPv6(v6("fe 80 00 00 00 00 00 00 0a bc 00 00 00 00 00 0f")), "fe80::abc:0:0:f");
  });
  it("sockaddr_in / sockaddr_in6 with ports, MAC, network-order ports", () => {
    assert.equal(formatSockaddr(Uint8Array.from([2, 0, 0x1f, 0x90, 127, 0, 0, 1, ...new Array(20).fill(0)])), "127.0.0.1:8080");
    assert.equal(formatSockaddr(Uint8Array.from([10, 0, 0, 80, 0, 0, 0, 0, ...v6("00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01"), 0, 0, 0, 0])), "[::1]:80");
    assert.equal(formatSockaddr(Uint8Array.from([2, 0, 0, 80, 1, 2, 3, 4]), false), "1.2.3.4");
    assert.equal(formatSockaddr(new Uint8Array(28)), null, "family 0: no address");
    assert.equal(formatMac(Uint8Array.from([0, 0x11, 0x22, 0xaa, 0xbb, 0xcc])), "00:11:22:aa:bb:cc");
    assert.equal(portFromNetwork(0x901f), 8080);
    assert.throws(() => formatIPv4(Uint8Array.from([1, 2])), InvalidArgumentError);
    assert.throws(() => bytesOf("127.0.0.1", 4), InvalidArgumentError);
  });
});

describe("uapi #defines", () => {
  it("parses object-like defines, first one wins, and evaluates them through each other", () => {
    const d = parseDefines(`#define O_A 00000001 /* a */
#define  O_B\t(O_A | 0x10) // b
#define F(x) ((x) + 1)
#ifndef O_A
#define O_A 2
#endif
#define O_C O_B
#define O_LOOP O_LOOP
#define O_STR "no"
#define O_LONG (1 << \\
  4)`);
    assert.deepEqual([...d.keys()], ["O_A", "O_B", "O_C", "O_LOOP", "O_STR", "O_LONG"]);
    assert.deepEqual(evaluateDefines(d, () => true), [
      { name: "O_A", value: 1n }, { name: "O_B", value: 0x11n }, { name: "O_C", value: 0x11n }, { name: "O_LONG", value: 16n },
    ]);
  });
  it("open flags: access mode from the low two bits, then flags, then hex", () => {
    assert.equal(openFlagNames(0), "O_RDONLY");
    assert.equal(openFlagNames(0o100), "O_RDONLY|O_CREAT");
    assert.equal(openFlagNames(0o1101), "O_WRONLY|O_CREAT|O_TRUNC");
  });
  it("signals from os.constants, aliases after the usual names, realtime ones as strace writes them", () => {
    assert.equal(signalName(9), "SIGKILL");
    assert.equal(signalName(6), "SIGABRT");
    assert.equal(signalName(29), "SIGIO");
    assert.equal(signalName(34), "SIGRT_2");
    assert.equal(signalName(0), "0");
    assert.throws(() => signalName(1.5 as number), InvalidArgumentError);
  });
});
