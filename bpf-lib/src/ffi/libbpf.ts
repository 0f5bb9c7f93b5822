/* The koffi declarations of libbpf (Debian's libbpf.so.1, 1.1). This file and
 * ffi/libc.ts are the only places that speak C: everything above them sees
 * branded handles and ArrayBuffers, never addresses to dereference. The library is
 * loaded and its functions declared at the first call (ffi/load.ts), so importing
 * bpfbook works where there is no libbpf (a replay). */
import koffi from "koffi";
import { declareOnce } from "./load.js";

/** Opaque handles: a C pointer carried as a bigint, typed so they cannot be mixed up. */
export type ObjectHandle = bigint & { readonly __handle: "bpf_object" };
export type ProgramHandle = bigint & { readonly __handle: "bpf_program" };
export type MapHandle = bigint & { readonly __handle: "bpf_map" };
export type LinkHandle = bigint & { readonly __handle: "bpf_link" };
export type BtfHandle = bigint & { readonly __handle: "btf" };

koffi.opaque("bpf_object");
koffi.opaque("bpf_program");
koffi.opaque("bpf_map");
koffi.opaque("bpf_link");
koffi.opaque("btf");

/** libbpf 1.1's struct bpf_object_open_opts, through kernel_log_level (80 bytes). */
const OpenOpts = koffi.struct("bpfbook_open_opts", {
  sz: "size_t",
  object_name: "const char *",
  relaxed_maps: "bool",
  pin_root_path: "const char *",
  unused_attach_prog_fd: "uint32_t",
  kconfig: "const char *",
  btf_custom_path: "const char *",
  kernel_log_buf: "void *",
  kernel_log_size: "size_t",
  kernel_log_level: "uint32_t",
});

const TestRunOpts = koffi.struct("bpfbook_test_run_opts", {
  sz: "size_t",
  data_in: "void *",
  data_out: "void *",
  data_size_in: "uint32_t",
  data_size_out: "uint32_t",
  ctx_in: "void *",
  ctx_out: "void *",
  ctx_size_in: "uint32_t",
  ctx_size_out: "uint32_t",
  retval: "uint32_t",
  repeat: "int",
  duration: "uint32_t",
  flags: "uint32_t",
  cpu: "uint32_t",
  batch_size: "uint32_t",
});

const UprobeOpts = koffi.struct("bpfbook_uprobe_opts", {
  sz: "size_t",
  ref_ctr_offset: "size_t",
  bpf_cookie: "uint64_t",
  retprobe: "bool",
  func_name: "const char *",
});

const BtfType = koffi.struct("bpfbook_btf_type", { name_off: "uint32_t", info: "uint32_t", size_or_type: "uint32_t" });
const BtfVarSecinfo = koffi.struct("bpfbook_btf_var_secinfo", { type: "uint32_t", offset: "uint32_t", size: "uint32_t" });

koffi.proto("int bpfbook_print_fn(int level, const char *fmt, void *ap)");

/** The declared functions, on first use: libbpf is loaded then. */
const fns = declareOnce((lib) => ({
  version: lib.func("const char *libbpf_version_string(void)"),
  set_print: lib.func("void *libbpf_set_print(bpfbook_print_fn *fn)"),
  num_possible_cpus: lib.func("int libbpf_num_possible_cpus(void)"),

  object__open_file: lib.func("bpf_object *bpf_object__open_file(const char *path, bpfbook_open_opts *opts)"),
  object__open_mem: lib.func("bpf_object *bpf_object__open_mem(const uint8_t *buf, size_t sz, bpfbook_open_opts *opts)"),
  object__load: lib.func("int bpf_object__load(bpf_object *obj)"),
  object__close: lib.func("void bpf_object__close(bpf_object *obj)"),
  object__next_program: lib.func("bpf_program *bpf_object__next_program(bpf_object *obj, bpf_program *prev)"),
  object__next_map: lib.func("bpf_map *bpf_object__next_map(bpf_object *obj, bpf_map *prev)"),
  object__btf: lib.func("btf *bpf_object__btf(bpf_object *obj)"),

  program__name: lib.func("const char *bpf_program__name(bpf_program *prog)"),
  program__section_name: lib.func("const char *bpf_program__section_name(bpf_program *prog)"),
  program__set_autoload: lib.func("int bpf_program__set_autoload(bpf_program *prog, bool autoload)"),
  program__fd: lib.func("int bpf_program__fd(bpf_program *prog)"),
  program__set_attach_target: lib.func("int bpf_program__set_attach_target(bpf_program *prog, int attach_prog_fd, const char *name)"),
  program__attach: lib.func("bpf_link *bpf_program__attach(bpf_program *prog)"),
  program__attach_tracepoint: lib.func("bpf_link *bpf_program__attach_tracepoint(bpf_program *prog, const char *category, const char *name)"),
  program__attach_raw_tracepoint: lib.func("bpf_link *bpf_program__attach_raw_tracepoint(bpf_program *prog, const char *name)"),
  program__attach_kprobe: lib.func("bpf_link *bpf_program__attach_kprobe(bpf_program *prog, bool retprobe, const char *func)"),
  program__attach_trace: lib.func("bpf_link *bpf_program__attach_trace(bpf_program *prog)"),
  program__attach_uprobe_opts: lib.func("bpf_link *bpf_program__attach_uprobe_opts(bpf_program *prog, int pid, const char *binary, size_t offset, bpfbook_uprobe_opts *opts)"),
  program__attach_perf_event: lib.func("bpf_link *bpf_program__attach_perf_event(bpf_program *prog, int pfd)"),
  program__attach_xdp: lib.func("bpf_link *bpf_program__attach_xdp(bpf_program *prog, int ifindex)"),
  link__destroy: lib.func("int bpf_link__destroy(bpf_link *link)"),
  link__fd: lib.func("int bpf_link__fd(bpf_link *link)"),

  map__name: lib.func("const char *bpf_map__name(bpf_map *map)"),
  map__fd: lib.func("int bpf_map__fd(bpf_map *map)"),
  map__type: lib.func("int bpf_map__type(bpf_map *map)"),
  map__key_size: lib.func("uint32_t bpf_map__key_size(bpf_map *map)"),
  map__value_size: lib.func("uint32_t bpf_map__value_size(bpf_map *map)"),
  map__max_entries: lib.func("uint32_t bpf_map__max_entries(bpf_map *map)"),
  map__set_max_entries: lib.func("int bpf_map__set_max_entries(bpf_map *map, uint32_t n)"),
  map__set_key_size: lib.func("int bpf_map__set_key_size(bpf_map *map, uint32_t size)"),
  map__set_value_size: lib.func("int bpf_map__set_value_size(bpf_map *map, uint32_t size)"),
  map__reuse_fd: lib.func("int bpf_map__reuse_fd(bpf_map *map, int fd)"),
  map__set_initial_value: lib.func("int bpf_map__set_initial_value(bpf_map *map, const uint8_t *data, size_t size)"),
  map__initial_value: lib.func("void *bpf_map__initial_value(bpf_map *map, _Out_ size_t *size)"),

  map_lookup_elem: lib.func("int bpf_map_lookup_elem(int fd, const uint8_t *key, _Out_ uint8_t *value)"),
  map_update_elem: lib.func("int bpf_map_update_elem(int fd, const uint8_t *key, const uint8_t *value, uint64_t flags)"),
  map_delete_elem: lib.func("int bpf_map_delete_elem(int fd, const uint8_t *key)"),
  map_get_next_key: lib.func("int bpf_map_get_next_key(int fd, const uint8_t *key, _Out_ uint8_t *next)"),
  map_lookup_batch: lib.func("int bpf_map_lookup_batch(int fd, uint8_t *in_batch, _Out_ uint8_t *out_batch, _Out_ uint8_t *keys, _Out_ uint8_t *values, _Inout_ uint32_t *count, void *opts)"),
  map_lookup_and_delete_batch: lib.func("int bpf_map_lookup_and_delete_batch(int fd, uint8_t *in_batch, _Out_ uint8_t *out_batch, _Out_ uint8_t *keys, _Out_ uint8_t *values, _Inout_ uint32_t *count, void *opts)"),
  prog_test_run_opts: lib.func("int bpf_prog_test_run_opts(int fd, _Inout_ bpfbook_test_run_opts *opts)"),

  btf__find_by_name_kind: lib.func("int btf__find_by_name_kind(btf *btf, const char *name, uint32_t kind)"),
  btf__type_by_id: lib.func("void *btf__type_by_id(btf *btf, uint32_t id)"),
  btf__name_by_offset: lib.func("const char *btf__name_by_offset(btf *btf, uint32_t off)"),
}));

/** errno of the last failed call on this thread: libbpf 1.x returns NULL or -errno and sets it. */
export function errno(): number {
  return koffi.errno();
}

export function version(): string {
  return fns().version() as string;
}

export function numPossibleCpus(): number {
  return fns().num_possible_cpus() as number;
}

/** Routes libbpf's log lines to `sink`; the C varargs are formatted with libc's vsnprintf. */
export function setPrint(
  wants: (level: number) => boolean,
  sink: (level: number, line: string) => void,
  vsnprintf: (buf: Buffer, fmt: bigint | string, ap: bigint) => number,
): void {
  const buf = Buffer.alloc(4 << 20); // verifier logs arrive in one call and can be megabytes
  const cb = koffi.register((level: number, fmt: string, ap: bigint) => {
    if (!wants(level)) return 0;
    const n = vsnprintf(buf, fmt, ap);
    sink(level, buf.subarray(0, Math.max(0, Math.min(n, buf.length - 1))).toString("utf8"));
    return 0;
  }, koffi.pointer(koffi.type("bpfbook_print_fn")));
  fns().set_print(cb);
}

/**
 * One verifier log buffer for every object, in C memory (libbpf keeps the pointer from open
 * to load). Given to libbpf, a failed load is retried once with the log written here; left to
 * itself, libbpf retries with a log of 16 MiB, then doubles it while the kernel says ENOSPC,
 * verifying the whole program again each time (30-90 s for a program past the verifier's
 * million-instruction limit). Kernels since 6.4 keep the end of a log that does not fit,
 * where the verdict is; older ones keep its start.
 */
export const VERIFIER_LOG_BYTES = 16 << 20;
let logBuf: unknown = null;
function verifierLogBuf(): unknown {
  logBuf ??= koffi.alloc("uint8_t", VERIFIER_LOG_BYTES);
  return logBuf;
}
function openOpts(name: string | undefined): Record<string, unknown> {
  const buf = verifierLogBuf();
  // the log starts empty: a load that fails before the kernel writes one leaves nothing stale
  new Uint8Array(koffi.view(buf, 1))[0] = 0;
  return { sz: koffi.sizeof(OpenOpts), object_name: name ?? null, relaxed_maps: false, pin_root_path: null, unused_attach_prog_fd: 0, kconfig: null, btf_custom_path: null, kernel_log_buf: buf, kernel_log_size: VERIFIER_LOG_BYTES, kernel_log_level: 0 };
}
/** The verifier's log of the last failed load (empty when there is none), as text. */
export function verifierLog(): string {
  if (logBuf === null) return "";
  const bytes = new Uint8Array(koffi.view(logBuf, VERIFIER_LOG_BYTES));
  const end = bytes.indexOf(0);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, end < 0 ? bytes.length : end).toString("utf8");
  bytes[0] = 0;
  return text;
}
export function openFile(path: string, name?: string): ObjectHandle | null {
  return fns().object__open_file(path, openOpts(name)) as ObjectHandle | null;
}
export function openMem(buf: Uint8Array, name: string): ObjectHandle | null {
  return fns().object__open_mem(buf, buf.length, openOpts(name)) as ObjectHandle | null;
}
export const objectLoad = (o: ObjectHandle): number => fns().object__load(o) as number;
export const objectClose = (o: ObjectHandle): void => void fns().object__close(o);
export const nextProgram = (o: ObjectHandle, prev: ProgramHandle | null): ProgramHandle | null => fns().object__next_program(o, prev) as ProgramHandle | null;
export const nextMap = (o: ObjectHandle, prev: MapHandle | null): MapHandle | null => fns().object__next_map(o, prev) as MapHandle | null;
export const objectBtf = (o: ObjectHandle): BtfHandle | null => fns().object__btf(o) as BtfHandle | null;

export const programName = (p: ProgramHandle): string => fns().program__name(p) as string;
export const programSection = (p: ProgramHandle): string => fns().program__section_name(p) as string;
export const programSetAutoload = (p: ProgramHandle, on: boolean): number => fns().program__set_autoload(p, on) as number;
export const programFd = (p: ProgramHandle): number => fns().program__fd(p) as number;
export const programSetAttachTarget = (p: ProgramHandle, fn: string): number => fns().program__set_attach_target(p, 0, fn) as number;

export const attach = (p: ProgramHandle): LinkHandle | null => fns().program__attach(p) as LinkHandle | null;
export const attachTracepoint = (p: ProgramHandle, group: string, name: string): LinkHandle | null =>
  fns().program__attach_tracepoint(p, group, name) as LinkHandle | null;
export const attachRawTracepoint = (p: ProgramHandle, name: string): LinkHandle | null =>
  fns().program__attach_raw_tracepoint(p, name) as LinkHandle | null;
export const attachKprobe = (p: ProgramHandle, retprobe: boolean, fn: string): LinkHandle | null =>
  fns().program__attach_kprobe(p, retprobe, fn) as LinkHandle | null;
export const attachTrace = (p: ProgramHandle): LinkHandle | null => fns().program__attach_trace(p) as LinkHandle | null;
/** `cookie`: what bpf_get_attach_cookie() returns in the program for this attachment (kernel 5.15+; 0 = none). */
export const attachUprobe = (p: ProgramHandle, retprobe: boolean, pid: number, binary: string, funcName: string | null, offset: number, cookie = 0): LinkHandle | null =>
  fns().program__attach_uprobe_opts(p, pid, binary, offset, { sz: koffi.sizeof(UprobeOpts), ref_ctr_offset: 0, bpf_cookie: cookie, retprobe, func_name: funcName }) as LinkHandle | null;
export const attachPerfEvent = (p: ProgramHandle, pfd: number): LinkHandle | null => fns().program__attach_perf_event(p, pfd) as LinkHandle | null;
export const attachXdp = (p: ProgramHandle, ifindex: number): LinkHandle | null => fns().program__attach_xdp(p, ifindex) as LinkHandle | null;
export const linkDestroy = (l: LinkHandle): number => fns().link__destroy(l) as number;
/**
 * bpf_link__destroy on libuv's thread pool: detaching a tracepoint's perf event waits
 * for an RCU grace period in the kernel (tens of ms), which must not hold the event loop.
 */
export const linkDestroyAsync = (l: LinkHandle): Promise<number> =>
  new Promise((resolve) => fns().link__destroy.async(l, (err: unknown, r: number) => resolve(err ? -1 : r)));
export const linkFd = (l: LinkHandle): number => fns().link__fd(l) as number;

export const mapName = (m: MapHandle): string => fns().map__name(m) as string;
export const mapFd = (m: MapHandle): number => fns().map__fd(m) as number;
export const mapType = (m: MapHandle): number => fns().map__type(m) as number;
export const mapKeySize = (m: MapHandle): number => fns().map__key_size(m) as number;
export const mapValueSize = (m: MapHandle): number => fns().map__value_size(m) as number;
export const mapMaxEntries = (m: MapHandle): number => fns().map__max_entries(m) as number;
export const mapSetMaxEntries = (m: MapHandle, n: number): number => fns().map__set_max_entries(m, n) as number;
export const mapSetKeySize = (m: MapHandle, n: number): number => fns().map__set_key_size(m, n) as number;
export const mapSetValueSize = (m: MapHandle, n: number): number => fns().map__set_value_size(m, n) as number;
export const mapReuseFd = (m: MapHandle, fd: number): number => fns().map__reuse_fd(m, fd) as number;
export const mapSetInitialValue = (m: MapHandle, data: Uint8Array): number => fns().map__set_initial_value(m, data, data.length) as number;

/** A copy of a global-data map's initial value (its .rodata/.data image). */
export function mapInitialValue(m: MapHandle): Uint8Array | null {
  const size = [0];
  const ptr = fns().map__initial_value(m, size) as bigint | null;
  if (ptr === null) return null;
  return new Uint8Array(koffi.view(ptr, size[0]).slice(0));
}

export const mapLookup = (fd: number, key: Uint8Array, value: Uint8Array): number => fns().map_lookup_elem(fd, key, value) as number;
export const mapUpdate = (fd: number, key: Uint8Array, value: Uint8Array, flags: number): number => fns().map_update_elem(fd, key, value, flags) as number;
export const mapDelete = (fd: number, key: Uint8Array): number => fns().map_delete_elem(fd, key) as number;
export const mapNextKey = (fd: number, key: Uint8Array | null, next: Uint8Array): number => fns().map_get_next_key(fd, key, next) as number;
/** One batch of bpf_map_lookup_batch; `count` is in/out. */
export function mapLookupBatch(fd: number, inBatch: Uint8Array | null, outBatch: Uint8Array, keys: Uint8Array, values: Uint8Array, count: number[]): number {
  return fns().map_lookup_batch(fd, inBatch, outBatch, keys, values, count, null) as number;
}

/** One batch of bpf_map_lookup_and_delete_batch; `count` is in/out. */
export function mapLookupAndDeleteBatch(fd: number, inBatch: Uint8Array | null, outBatch: Uint8Array, keys: Uint8Array, values: Uint8Array, count: number[]): number {
  return fns().map_lookup_and_delete_batch(fd, inBatch, outBatch, keys, values, count, null) as number;
}

export interface TestRunResult { ret: number; retval: number; durationNs: number }
export function progTestRun(fd: number, opts: { dataIn?: Uint8Array; ctxIn?: Uint8Array; repeat?: number } = {}): TestRunResult {
  const o = {
    sz: koffi.sizeof(TestRunOpts),
    data_in: opts.dataIn ?? null, data_out: null,
    data_size_in: opts.dataIn?.length ?? 0, data_size_out: 0,
    ctx_in: opts.ctxIn ?? null, ctx_out: null,
    ctx_size_in: opts.ctxIn?.length ?? 0, ctx_size_out: 0,
    retval: 0, repeat: opts.repeat ?? 0, duration: 0, flags: 0, cpu: 0, batch_size: 0,
  };
  const ret = fns().prog_test_run_opts(fd, o) as number;
  return { ret, retval: o.retval, durationNs: o.duration };
}

/** A DATASEC's variables (name, offset, size): how .rodata globals are laid out. */
export function btfDatasecVars(btf: BtfHandle, section: string): { name: string; offset: number; size: number }[] | null {
  const BTF_KIND_VAR = 14, BTF_KIND_DATASEC = 15;
  const id = fns().btf__find_by_name_kind(btf, section, BTF_KIND_DATASEC) as number;
  if (id < 0) return null;
  const tptr = fns().btf__type_by_id(btf, id) as bigint;
  const t = koffi.decode(tptr, BtfType) as { info: number };
  const vlen = t.info & 0xffff;
  const vars: { name: string; offset: number; size: number }[] = [];
  for (let i = 0; i < vlen; i++) {
    const si = koffi.decode(tptr, koffi.sizeof(BtfType) + i * koffi.sizeof(BtfVarSecinfo), BtfVarSecinfo) as { type: number; offset: number; size: number };
    const vptr = fns().btf__type_by_id(btf, si.type) as bigint;
    const v = koffi.decode(vptr, BtfType) as { name_off: number; info: number };
    if (((v.info >>> 24) & 0x1f) !== BTF_KIND_VAR) continue;
    vars.push({ name: fns().btf__name_by_offset(btf, v.name_off) as string, offset: si.offset, size: si.size });
  }
  return vars;
}
