/* The tracefs layer: the format parser on formats copied from a 6.18 kernel,
 * then the catalog and type generator against this machine's tracefs. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";
import { fieldOf, listTracepoints, nearest, readFormat } from "../bpf-lib/src/tracefs/catalog.js";
import { TracefsNotMountedError, TracepointFormatError, UnknownFieldError, UnknownTracepointError } from "../bpf-lib/src/tracefs/errors.js";
import { parseFormat, type FieldKind, type TracepointFormat } from "../bpf-lib/src/tracefs/format.js";
import { FALLBACK, generateTypes, renderTypes } from "../bpf-lib/src/tracefs/gen-types.js";
import { findTracefs } from "../bpf-lib/src/tracefs/mount.js";

// The four header fields every record starts with, exactly as tracefs prints them.
const COMMON = `\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;
`;

const OPENAT = `name: sys_enter_openat
ID: 782
format:
${COMMON}
\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
\tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;
\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;
\tfield:int flags;\toffset:32;\tsize:8;\tsigned:0;
\tfield:umode_t mode;\toffset:40;\tsize:8;\tsigned:0;

print fmt: "dfd: 0x%08lx, filename: 0x%08lx, flags: 0x%08lx, mode: 0x%08lx", ((unsigned long)(REC->dfd)), ((unsigned long)(REC->filename)), ((unsigned long)(REC->flags)), ((unsigned long)(REC->mode))
`;

const EXEC = `name: sched_process_exec
ID: 365
format:
${COMMON}
\tfield:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:0;
\tfield:pid_t pid;\toffset:12;\tsize:4;\tsigned:1;
\tfield:pid_t old_pid;\toffset:16;\tsize:4;\tsigned:1;

print fmt: "filename=%s pid=%d old_pid=%d", __get_str(filename), REC->pid, REC->old_pid
`;

const SWITCH = `name: sched_switch
ID: 372
format:
${COMMON}
\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;
\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;
\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;
\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;
\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;
\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;
\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;

print fmt: "prev_comm=%s prev_pid=%d prev_prio=%d", REC->prev_comm, REC->prev_pid, REC->prev_prio
`;

const SOCK_STATE = `name: inet_sock_set_state
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

print fmt: "family=%s sport=%hu dport=%hu saddr=%pI4", REC->family, REC->sport, REC->dport, REC->saddr
`;

const DMA_MAP_SG = `name: dma_map_sg
ID: 431
format:
${COMMON}
\tfield:__data_loc char[] device;\toffset:8;\tsize:4;\tsigned:0;
\tfield:int full_nents;\toffset:12;\tsize:4;\tsigned:1;
\tfield:int full_ents;\toffset:16;\tsize:4;\tsigned:1;
\tfield:bool truncated;\toffset:20;\tsize:1;\tsigned:0;
\tfield:__data_loc u64[] phys_addrs;\toffset:24;\tsize:4;\tsigned:0;
\tfield:__data_loc u64[] dma_addrs;\toffset:28;\tsize:4;\tsigned:0;
\tfield:__data_loc unsigned int[] lengths;\toffset:32;\tsize:4;\tsigned:0;
\tfield:enum dma_data_direction dir;\toffset:36;\tsize:4;\tsigned:0;
\tfield:unsigned long attrs;\toffset:40;\tsize:8;\tsigned:0;

print fmt: "%s nents=%d", __get_str(device), REC->full_nents
`;

const EXECVE = `name: sys_enter_execve
ID: 862
format:
${COMMON}
\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
\tfield:const char * filename;\toffset:16;\tsize:8;\tsigned:0;
\tfield:const char *const * argv;\toffset:24;\tsize:8;\tsigned:0;
\tfield:const char *const * envp;\toffset:32;\tsize:8;\tsigned:0;

print fmt: "filename: 0x%08lx, argv: 0x%08lx, envp: 0x%08lx", ((unsigned long)(REC->filename)), ((unsigned long)(REC->argv)), ((unsigned long)(REC->envp))
`;

const LANDLOCK = `name: sys_enter_landlock_create_ruleset
ID: 2086
format:
${COMMON}
\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
\tfield:const struct landlock_ruleset_attr *const attr;\toffset:16;\tsize:8;\tsigned:0;
\tfield:const size_t size;\toffset:24;\tsize:8;\tsigned:0;
\tfield:const __u32 flags;\toffset:32;\tsize:8;\tsigned:0;

print fmt: "attr: 0x%08lx, size: 0x%08lx, flags: 0x%08lx", ((unsigned long)(REC->attr)), ((unsigned long)(REC->size)), ((unsigned long)(REC->flags))
`;

// The kernel copies a "\n" inside the printk string into the file as a real newline.
const FSMAP = `name: ext4_fsmap_high_key
ID: 1172
format:
${COMMON}
\tfield:dev_t dev;\toffset:8;\tsize:4;\tsigned:0;
\tfield:dev_t keydev;\toffset:12;\tsize:4;\tsigned:0;
\tfield:u32 agno;\toffset:16;\tsize:4;\tsigned:0;
\tfield:u64 bno;\toffset:24;\tsize:8;\tsigned:0;
\tfield:u64 len;\toffset:32;\tsize:8;\tsigned:0;
\tfield:u64 owner;\toffset:40;\tsize:8;\tsigned:0;

print fmt: "dev %d:%d keydev %d:%d agno %u bno %llu len %llu owner %lld
", ((unsigned int) ((REC->dev) >> 20)), ((unsigned int) ((REC->dev) & ((1U << 20) - 1))), ((unsigned int) ((REC->keydev) >> 20)), ((unsigned int) ((REC->keydev) & ((1U << 20) - 1))), REC->agno, REC->bno, REC->len, REC->owner
`;

const FUNCTION = `name: function
ID: 1
format:
${COMMON}
\tfield:unsigned long ip;\toffset:8;\tsize:8;\tsigned:0;
\tfield:unsigned long parent_ip;\toffset:16;\tsize:8;\tsigned:0;
\tfield:unsigned long args[];\toffset:24;\tsize:0;\tsigned:0;

print fmt: " %ps <-- %ps", (void *)REC->ip, (void *)REC->parent_ip
`;

const XFS_AGFL = `name: xfs_agfl_free_deferred
ID: 1509
format:
${COMMON}
\tfield:dev_t dev;\toffset:8;\tsize:4;\tsigned:0;
\tfield:enum xfs_group_type type;\toffset:12;\tsize:1;\tsigned:0;
\tfield:xfs_agnumber_t agno;\toffset:16;\tsize:4;\tsigned:0;
\tfield:xfs_agblock_t agbno;\toffset:20;\tsize:4;\tsigned:0;
\tfield:xfs_extlen_t len;\toffset:24;\tsize:4;\tsigned:0;
\tfield:unsigned int flags;\toffset:28;\tsize:4;\tsigned:0;

print fmt: "dev %d:%d agno 0x%x", ((unsigned int) ((REC->dev) >> 20)), ((unsigned int) ((REC->dev) & ((1U << 20) - 1))), REC->agno
`;

// Not on this kernel: samples/trace_events' foo_rel_loc (__rel_loc, 5.18+), a
// symbolic bound as older kernels printed it, and a struct stored by value.
const SYNTHETIC = `name: foo_rel_loc
ID: 9999
format:
${COMMON}
\tfield:__rel_loc char[] foo;\toffset:8;\tsize:4;\tsigned:0;
\tfield:int bar;\toffset:12;\tsize:4;\tsigned:1;
\tfield:__rel_loc unsigned long[] bitmask;\toffset:16;\tsize:4;\tsigned:0;
\tfield:__rel_loc cpumask_t cpumask;\toffset:20;\tsize:4;\tsigned:0;
\tfield:char comm[TASK_COMM_LEN];\toffset:24;\tsize:16;\tsigned:1;
\tfield:struct timespec64 ts;\toffset:40;\tsize:16;\tsigned:0;

print fmt: "foo_rel_loc %s, %d", __get_rel_str(foo), REC->bar
`;

function kinds(format: TracepointFormat): Record<string, FieldKind> {
  return Object.fromEntries(format.fields.filter((f) => !f.common).map((f) => [f.name, f.decl]));
}

describe("parseFormat", () => {
  it("reads ids, offsets, common fields and the print format", () => {
    const f = parseFormat(OPENAT, "syscalls", "sys_enter_openat");
    assert.equal(f.id, 782);
    assert.deepEqual(
      f.fields.map((x) => [x.name, x.offset, x.size, x.common]),
      [
        ["common_type", 0, 2, true],
        ["common_flags", 2, 1, true],
        ["common_preempt_count", 3, 1, true],
        ["common_pid", 4, 4, true],
        ["__syscall_nr", 8, 4, false],
        ["dfd", 16, 8, false],
        ["filename", 24, 8, false],
        ["flags", 32, 8, false],
        ["mode", 40, 8, false],
      ],
    );
    assert.match(f.printFmt, /^"dfd: 0x%08lx, filename/);
    assert.match(f.printFmt, /\(REC->mode\)\)$/);
  });

  it("decodes widened syscall arguments by their C type, not the 8-byte slot", () => {
    const f = parseFormat(OPENAT, "syscalls", "sys_enter_openat");
    assert.deepEqual(kinds(f), {
      __syscall_nr: { kind: "int", size: 4, signed: true },
      dfd: { kind: "int", size: 4, signed: true },
      filename: { kind: "pointer", pointee: "const char", userString: true },
      flags: { kind: "int", size: 4, signed: true },
      mode: { kind: "int", size: 2, signed: false },
    });
    const dfd = f.fields.find((x) => x.name === "dfd")!;
    assert.equal(dfd.type, "int");
    assert.equal(dfd.size, 8, "the raw slot size is kept next to the decoded one");
    assert.equal(dfd.signed, false);
  });

  it("strips qualifiers, including on the pointer itself", () => {
    assert.deepEqual(kinds(parseFormat(LANDLOCK, "syscalls", "sys_enter_landlock_create_ruleset")), {
      __syscall_nr: { kind: "int", size: 4, signed: true },
      attr: { kind: "pointer", pointee: "const struct landlock_ruleset_attr", userString: false },
      size: { kind: "int", size: 8, signed: false },
      flags: { kind: "int", size: 4, signed: false },
    });
  });

  it("marks only single char pointers as user strings", () => {
    assert.deepEqual(kinds(parseFormat(EXECVE, "syscalls", "sys_enter_execve")), {
      __syscall_nr: { kind: "int", size: 4, signed: true },
      filename: { kind: "pointer", pointee: "const char", userString: true },
      argv: { kind: "pointer", pointee: "const char *const", userString: false },
      envp: { kind: "pointer", pointee: "const char *const", userString: false },
    });
    const sock = kinds(parseFormat(SOCK_STATE, "sock", "inet_sock_set_state"));
    assert.deepEqual(sock.skaddr, { kind: "pointer", pointee: "const void", userString: false });
  });

  it("reads __data_loc strings and byte arrays", () => {
    assert.deepEqual(kinds(parseFormat(EXEC, "sched", "sched_process_exec")).filename, {
      kind: "data_loc",
      elem: "string",
      rel: false,
    });
    const dma = kinds(parseFormat(DMA_MAP_SG, "dma", "dma_map_sg"));
    assert.deepEqual(dma.device, { kind: "data_loc", elem: "string", rel: false });
    assert.deepEqual(dma.phys_addrs, { kind: "data_loc", elem: "bytes", rel: false });
    assert.deepEqual(dma.lengths, { kind: "data_loc", elem: "bytes", rel: false });
    assert.deepEqual(dma.truncated, { kind: "int", size: 1, signed: false });
    assert.deepEqual(dma.dir, { kind: "int", size: 4, signed: false });
    assert.deepEqual(dma.attrs, { kind: "int", size: 8, signed: false });
  });

  it("reads __rel_loc, symbolic array bounds and structs by value", () => {
    const f = parseFormat(SYNTHETIC, "sample-trace", "foo_rel_loc");
    assert.deepEqual(kinds(f), {
      foo: { kind: "data_loc", elem: "string", rel: true },
      bar: { kind: "int", size: 4, signed: true },
      bitmask: { kind: "data_loc", elem: "bytes", rel: true },
      cpumask: { kind: "data_loc", elem: "bytes", rel: true },
      comm: { kind: "char_array", length: 16 },
      ts: { kind: "unknown", size: 16 },
    });
    assert.equal(f.fields.find((x) => x.name === "comm")!.type, "char[TASK_COMM_LEN]");
  });

  it("reads fixed char arrays as strings and longs as 8 bytes", () => {
    const f = kinds(parseFormat(SWITCH, "sched", "sched_switch"));
    assert.deepEqual(f.prev_comm, { kind: "char_array", length: 16 });
    assert.deepEqual(f.next_comm, { kind: "char_array", length: 16 });
    assert.deepEqual(f.prev_state, { kind: "int", size: 8, signed: true });
    assert.deepEqual(f.prev_pid, { kind: "int", size: 4, signed: true });
  });

  it("reads integer arrays, including flexible ones", () => {
    const sock = kinds(parseFormat(SOCK_STATE, "sock", "inet_sock_set_state"));
    assert.deepEqual(sock.saddr, { kind: "int_array", elem: 1, signed: false, length: 4 });
    assert.deepEqual(sock.saddr_v6, { kind: "int_array", elem: 1, signed: false, length: 16 });
    assert.deepEqual(sock.sport, { kind: "int", size: 2, signed: false });
    const fn = kinds(parseFormat(FUNCTION, "ftrace", "function"));
    assert.deepEqual(fn.args, { kind: "int_array", elem: 8, signed: false, length: 0 });
  });

  it("takes the format's word for enums and typedefs it does not know", () => {
    const f = kinds(parseFormat(XFS_AGFL, "xfs", "xfs_agfl_free_deferred"));
    assert.deepEqual(f.type, { kind: "int", size: 1, signed: false });
    assert.deepEqual(f.agno, { kind: "int", size: 4, signed: false });
    assert.deepEqual(f.dev, { kind: "int", size: 4, signed: false });
  });

  it("keeps a print format that spans lines", () => {
    const f = parseFormat(FSMAP, "ext4", "ext4_fsmap_high_key");
    assert.equal(f.fields.length, 10);
    assert.match(f.printFmt, /owner %lld\n", \(\(unsigned int\)/);
    assert.match(f.printFmt, /REC->owner$/);
  });

  it("rejects malformed text with the line at fault", () => {
    const bad = (text: string, pattern: RegExp) =>
      assert.throws(
        () => parseFormat(text, "syscalls", "sys_enter_openat"),
        (err: unknown) => err instanceof TracepointFormatError && err.code === "EFORMAT" && pattern.test(err.message),
      );
    bad("", /no `ID:` line/);
    bad(OPENAT.replace("ID: 782", "ID: x"), /line 2.*bad ID "x"/);
    bad(OPENAT.replace("\toffset:16;", ""), /line 10.*bad field line "field:int dfd;/);
    bad(OPENAT.replace("format:\n", ""), /field before the `format:` line/);
    bad(OPENAT.replace("name: sys_enter_openat", "name: sys_exit_openat"), /expected "sys_enter_openat"/);
    bad(OPENAT.replace("print fmt:", "prnt fmt:"), /unexpected line "prnt fmt/);
    bad("name: sys_enter_openat\nID: 1\nformat:\n", /no fields/);
  });
});

describe("nearest", () => {
  const names = [
    "syscalls:sys_enter_open",
    "syscalls:sys_enter_openat",
    "syscalls:sys_enter_openat2",
    "syscalls:sys_exit_openat",
    "syscalls:sys_enter_close",
    "sched:sched_switch",
    "sched:sched_process_exec",
  ];

  it("puts the one-letter typo first", () => {
    assert.equal(nearest("syscalls:sys_enter_opnat", names)[0], "syscalls:sys_enter_openat");
    assert.equal(nearest("sched:sched_swtich", names)[0], "sched:sched_switch");
  });

  it("finds events from a fragment or without their group", () => {
    assert.deepEqual(nearest("openat", names, 3).sort(), [
      "syscalls:sys_enter_openat",
      "syscalls:sys_enter_openat2",
      "syscalls:sys_exit_openat",
    ]);
    assert.equal(nearest("sys_enter_openat", names)[0], "syscalls:sys_enter_openat");
    assert.equal(nearest("sched/sched_switch", names)[0], "sched:sched_switch");
  });

  it("prefers the right event in a mistyped group over other events", () => {
    assert.equal(nearest("syscall:sys_enter_close", names)[0], "syscalls:sys_enter_close");
  });

  it("suggests nothing when nothing is close", () => {
    assert.deepEqual(nearest("kmem:kmalloc", names), []);
  });
});

let tracefs: string | undefined;
try {
  tracefs = findTracefs();
} catch (err) {
  if (!(err instanceof TracefsNotMountedError) && (err as { code?: string }).code !== "EPERM") throw err;
}
const needsTracefs = { skip: tracefs === undefined ? "tracefs is not available" : false };

describe("findTracefs", () => {
  it("says how to mount tracefs when it is missing", () => {
    const err = new TracefsNotMountedError(["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]);
    assert.ok(err instanceof Error);
    assert.equal(err.code, "ETRACEFS");
    assert.match(err.message, /mount -t tracefs nodev \/sys\/kernel\/tracing/);
    assert.match(err.message, /\.\/install\.sh/);
  });

  it("finds a root with an events directory", needsTracefs, () => {
    assert.ok(statSync(`${findTracefs()}/events/syscalls`).isDirectory());
  });
});

describe("catalog on this machine's tracefs", needsTracefs, () => {
  it("lists group:name sorted, without ftrace's internal records", () => {
    const all = listTracepoints();
    assert.ok(all.length > 100);
    assert.ok(all.includes("syscalls:sys_enter_openat"));
    assert.ok(all.includes("sched:sched_switch"));
    assert.deepEqual(all, [...all].sort());
    assert.ok(all.every((n) => /^[^:/]+:[^:/]+$/.test(n)));
    assert.ok(!all.some((n) => n.startsWith("ftrace:")));
  });

  it("reads syscalls:sys_enter_openat", () => {
    const f = readFormat("syscalls:sys_enter_openat");
    assert.equal(f.group, "syscalls");
    assert.equal(f.name, "sys_enter_openat");
    assert.ok(f.id > 0);
    const own = f.fields.filter((x) => !x.common);
    assert.deepEqual(
      own.map((x) => [x.name, x.offset, x.decl.kind]),
      [
        ["__syscall_nr", 8, "int"],
        ["dfd", 16, "int"],
        ["filename", 24, "pointer"],
        ["flags", 32, "int"],
        ["mode", 40, "int"],
      ],
    );
    assert.deepEqual(fieldOf(f, "filename").decl, { kind: "pointer", pointee: "const char", userString: true });
    assert.equal(readFormat("syscalls/sys_enter_openat"), f, "group/name hits the same cache entry");
  });

  it("parses every format on this machine", () => {
    for (const name of listTracepoints()) assert.ok(readFormat(name).fields.length > 0, name);
  });

  it("explains an unknown tracepoint with suggestions", () => {
    assert.throws(
      () => readFormat("syscalls:sys_enter_opnat"),
      (err: unknown) => {
        assert.ok(err instanceof UnknownTracepointError);
        assert.equal(err.code, "ENOTRACEPOINT");
        assert.equal(err.suggestions[0], "syscalls:sys_enter_openat");
        assert.match(
          err.message,
          /^unknown tracepoint "syscalls:sys_enter_opnat"; did you mean syscalls:sys_enter_openat, .*\? \(see listTracepoints\(\)\)$/,
        );
        return true;
      },
    );
    for (const name of ["sys_enter_openat", "../../../etc:passwd", "syscalls:"]) {
      assert.throws(() => readFormat(name), UnknownTracepointError, name);
    }
  });

  it("suggests quickly over every tracepoint", () => {
    const all = listTracepoints();
    const t0 = performance.now();
    assert.equal(nearest("sys_enter_opnat", all)[0], "syscalls:sys_enter_openat");
    assert.ok(performance.now() - t0 < 500);
  });

  it("explains an unknown field with the fields there are", () => {
    const f = readFormat("syscalls:sys_enter_openat");
    assert.equal(fieldOf(f, "common_pid").common, true);
    assert.throws(
      () => fieldOf(f, "filenme"),
      (err: unknown) => {
        assert.ok(err instanceof UnknownFieldError);
        assert.equal(err.code, "ENOFIELD");
        assert.deepEqual(err.available, ["__syscall_nr", "dfd", "filename", "flags", "mode"]);
        assert.equal(err.suggestions[0], "filename");
        assert.equal(
          err.message,
          'syscalls:sys_enter_openat has no field "filenme"; did you mean filename? its fields are: __syscall_nr, dfd, filename, flags, mode',
        );
        return true;
      },
    );
  });

  it("generates types for every tracepoint in well under a couple of seconds", () => {
    const t0 = performance.now();
    const gen = generateTypes();
    assert.ok(performance.now() - t0 < 2000);
    assert.ok(gen.tracepoints > 100 && gen.fields > gen.tracepoints);
    assert.match(gen.text, /^\/\/ generated by bpfbook from \/sys\/kernel(\/debug)?\/tracing on .+; do not edit\n/);
    assert.ok(
      gen.text.includes(
        '  "syscalls:sys_enter_openat": { __syscall_nr: number; dfd: number; filename: bigint; flags: number; mode: number };',
      ),
    );
    assert.ok(gen.text.includes('  "syscalls:sys_enter_openat": "filename";'));
  });
});

/** Type-checks modules in a scratch directory; returns the diagnostics as text. */
function typeCheck(files: Record<string, string>): string[] {
  const dir = mkdtempSync(join(tmpdir(), "bpfbook-types-"));
  try {
    // package.json makes the scratch directory an ES module package, as the project is.
    writeFileSync(join(dir, "package.json"), '{"type":"module"}');
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const program = ts.createProgram(Object.keys(files).map((name) => join(dir, name)), {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ["lib.es2022.d.ts"],
      types: [],
    });
    return ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("renderTypes", () => {
  const formats = [
    parseFormat(OPENAT, "syscalls", "sys_enter_openat"),
    parseFormat(EXECVE, "syscalls", "sys_enter_execve"),
    parseFormat(SWITCH, "sched", "sched_switch"),
    parseFormat(SOCK_STATE, "sock", "inet_sock_set_state"),
    parseFormat(DMA_MAP_SG, "dma", "dma_map_sg"),
    parseFormat(SYNTHETIC, "sample-trace", "foo_rel_loc"),
  ];
  // Field names come from C identifiers today; the quoting is for whatever a future kernel prints.
  const odd: TracepointFormat = {
    group: "odd",
    name: "odd-event",
    id: 1,
    printFmt: "",
    fields: [{ name: "not-an-identifier", type: "int", offset: 8, size: 4, signed: true, decl: { kind: "int", size: 4, signed: true }, common: false }],
  };
  const text = renderTypes([...formats, odd], "generated by bpfbook from a test");

  it("maps each kind to its decoded type", () => {
    assert.ok(text.startsWith("// generated by bpfbook from a test; do not edit\n"));
    assert.ok(
      text.includes('  "syscalls:sys_enter_openat": { __syscall_nr: number; dfd: number; filename: bigint; flags: number; mode: number };'),
    );
    assert.ok(text.includes("prev_comm: string; prev_pid: number; prev_prio: number; prev_state: number;"));
    assert.ok(text.includes("saddr: number[];"));
    assert.ok(text.includes("device: string;") && text.includes("phys_addrs: Uint8Array;"));
    assert.ok(text.includes("foo: string; bar: number; bitmask: Uint8Array; cpumask: Uint8Array; comm: string; ts: Uint8Array"));
    assert.ok(text.includes('  "odd:odd-event": { "not-an-identifier": number };'));
    assert.ok(text.includes('  "syscalls:sys_enter_execve": "filename";'));
    assert.ok(text.includes('  "sched:sched_switch": never;'));
  });

  it("type-checks, and rejects a misspelt field", () => {
    const usage = `import type { TracepointFields, TracepointName, TracepointUserStrings } from "./tracepoints.js";
type Openat = TracepointFields["syscalls:sys_enter_openat"];
const row: Openat = { __syscall_nr: 257, dfd: -100, filename: 0x7ffd0000n, flags: 0, mode: 0o644 };
const name: TracepointName = "sched:sched_switch";
const user: TracepointUserStrings["syscalls:sys_enter_openat"] = "filename";
const comm: TracepointFields["sched:sched_switch"]["prev_comm"] = "swapper/0";
// @ts-expect-error a misspelt field is a type error
const bad: Openat["filenme"] = 0n;
// @ts-expect-error sched_switch has no user-string fields
const none: TracepointUserStrings["sched:sched_switch"] = "prev_comm";
export { row, name, user, comm, bad, none };
`;
    assert.deepEqual(typeCheck({ "tracepoints.ts": text, "usage.ts": usage }), []);
  });

  it("has a fallback that type-checks and accepts any name", () => {
    const usage = `import type { TracepointFields, TracepointName, TracepointUserStrings } from "./tracepoints.js";
const name: TracepointName = "anything:at_all";
const fields: TracepointFields[TracepointName] = { x: 1 };
const user: TracepointUserStrings[string] = "filename";
export { name, fields, user };
`;
    assert.deepEqual(typeCheck({ "tracepoints.ts": FALLBACK, "usage.ts": usage }), []);
  });
});
