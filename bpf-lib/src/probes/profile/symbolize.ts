/* Symbolizing profiles: stack ids from profile.bpf.c's maps into frame names
 * (kernel and user), folded into one row per (pid, comm, stack). */
import type { BpfMap } from "../../libbpf/map.js";
import { KernelSymbols } from "../../symbols/kallsyms.js";
import { UserSymbolizer, type ProcessImage } from "../../symbols/process.js";
import { demangle } from "../../symbols/demangle.js";
import { readStackIps } from "../../symbols/stacks.js";

const EFAULT = 14, EEXIST = 17;
const MAX_DEPTH = 127;

/** One counted (pid, comm, kernel stack, user stack) key of profile.bpf.c. */
export interface Key {
  pid: number;
  kstack: number;
  ustack: number;
  comm: string;
  /** Stacks that collided in the stack map were copied to `spill` under these keys (0n: none). */
  khash: bigint;
  uhash: bigint;
  count: number;
  /** offcpu: ns off the CPU */
  ns: number;
}

/** Stacks folded to rows, with what symbolizing saw. */
export interface Folded {
  rows: { pid: number; comm: string; stack: string; count: number; ns: number }[];
  /** Samples whose stack was not recorded (the stack map was full). */
  lost: number;
  stacks: number;
  spilled: number;
  kernelSymbols: "off" | "hidden" | "ok";
  /** Processes that exited before their mappings could be read. */
  exited: number[];
}

/**
 * Names the frames of the counted stacks (kernel from /proc/kallsyms, user from each
 * process's mappings as last read) and folds keys whose stacks name the same frames.
 */
export function foldStacks(
  keys: readonly Key[],
  maps: { stacks: BpfMap; spill: BpfMap },
  images: ReadonlyMap<number, ProcessImage>,
  opts: { kernel?: boolean; demangle?: boolean; cpu: boolean },
): Folded {
  const cpu = opts.cpu;
  const { stacks: stackMap, spill } = maps;
  const raw = new Map<string, bigint[]>();
  /** A stack by id in `stacks`, or (id −EEXIST) by hash in `spill`. */
  const readStack = (id: number, hash: bigint): bigint[] => {
    const rk = id >= 0 ? `${id}` : `h${hash}`;
    let s = raw.get(rk);
    if (s) return s;
    if (id >= 0) {
      s = readStackIps(stackMap, id);
      raw.set(rk, s);
      return s;
    }
    s = [];
    const key = new Uint8Array(8);
    new DataView(key.buffer).setBigUint64(0, hash, true);
    const v = spill.lookup(key);
    if (v) {
      const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
      for (let i = 0; i < MAX_DEPTH && i * 8 < v.byteLength; i++) {
        const ip = dv.getBigUint64(i * 8, true);
        if (ip === 0n) break;
        s.push(ip);
      }
    }
    raw.set(rk, s);
    return s;
  };
  const recorded = (id: number, hash: bigint) => id >= 0 || (id === -EEXIST && hash !== 0n);

  const wantKernel = opts.kernel !== false;
  const ksyms = wantKernel && keys.some((k) => recorded(k.kstack, k.khash)) ? KernelSymbols.load() : null;
  const kframes = new Map<string, string[]>();
  const kernelFrames = (id: number, hash: bigint): string[] => {
    if (!recorded(id, hash)) return id === -EFAULT ? [] : ["[lost stack]_[k]"];
    const ck = `${id}:${hash}`;
    let f = kframes.get(ck);
    if (f) return f;
    f = readStack(id, hash).map((ip, i) => {
      const s = ksyms?.symbolize(i === 0 ? ip : ip - 1n);
      return `${s ? s.name : "0x" + ip.toString(16)}_[k]`;
    }).reverse();
    kframes.set(ck, f);
    return f;
  };

  const users = new UserSymbolizer();
  const uframes = new Map<string, string[]>();
  const exited = new Set<number>();
  const userFrames = (pid: number, id: number, hash: bigint): string[] => {
    if (!recorded(id, hash)) return id === -EFAULT ? [] : ["[lost stack]"];
    const ck = `${pid}:${id}:${hash}`;
    let f = uframes.get(ck);
    if (f) return f;
    const img = images.get(pid) ?? null;
    if (pid !== 0 && !img?.maps) exited.add(pid);
    f = readStack(id, hash).map((ip, i) => users.symbolize(img, Number(ip), i > 0)).reverse();
    // Runs of garbage frames (a frame-pointer walk gone astray) fold into one.
    f = f.filter((x, i) => !(x === "[unknown]" && f![i - 1] === "[unknown]"));
    uframes.set(ck, f);
    return f;
  };

  const frameLists = keys.map((k) => [...userFrames(k.pid, k.ustack, k.uhash), ...kernelFrames(k.kstack, k.khash)]);
  if (opts.demangle !== false) {
    const names = demangle(frameLists.flat());
    if (names.size) for (const f of frameLists) for (let i = 0; i < f.length; i++) f[i] = names.get(f[i]) ?? f[i];
  }
  // Different stack ids can fold to the same names (other call sites in the same functions): merge them.
  const merged = new Map<string, { pid: number; comm: string; stack: string; count: number; ns: number }>();
  let lost = 0;
  for (const [j, k] of keys.entries()) {
    const frames = frameLists[j];
    if ((!recorded(k.kstack, k.khash) && k.kstack !== -EFAULT) || (!recorded(k.ustack, k.uhash) && k.ustack !== -EFAULT)) lost += k.count;
    const stack = frames.length ? frames.join(";") : "[unknown]";
    const mk = `${k.pid}\0${k.comm}\0${stack}`;
    const row = merged.get(mk);
    if (row) {
      row.count += k.count;
      row.ns += k.ns;
    } else {
      merged.set(mk, { pid: k.pid, comm: k.comm, stack, count: k.count, ns: k.ns });
    }
  }
  const rows = [...merged.values()].sort((a, b) => (cpu ? b.count - a.count : b.ns - a.ns) || a.pid - b.pid || (a.stack < b.stack ? -1 : 1));
  return { rows, lost, stacks: raw.size, spilled: [...raw.keys()].filter((k) => k.startsWith("h")).length, kernelSymbols: !wantKernel ? "off" : ksyms?.hidden ? "hidden" : "ok", exited: [...exited].sort((a, b) => a - b) };
}
