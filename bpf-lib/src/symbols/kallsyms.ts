/* Kernel addresses to function names through /proc/kallsyms: the text symbols,
 * sorted, found by binary search. Kernel addresses do not fit in a double, so they
 * are kept as two 32-bit halves. Without permission (kptr_restrict, no
 * CAP_SYSLOG) the kernel shows every address as 0: then `hidden` is true and
 * nothing can be named. */
import { readFileSync } from "node:fs";

export interface KernelSymbol {
  name: string;
  /** The module it belongs to ("bpf" for BPF programs), or undefined for the kernel image. */
  module?: string;
  /** Bytes past the symbol's start. */
  offset: number;
}

/** Farther than this past the last symbol of a region, an address is not attributed to it. */
const MAX_SPAN = 1 << 20;

export class KernelSymbols {
  readonly hidden: boolean;
  readonly count: number;
  readonly #hi: Uint32Array;
  readonly #lo: Uint32Array;
  readonly #names: string[];
  readonly #modules: (string | undefined)[];
  #byName: Map<string, number> | null = null;

  private constructor(hi: Uint32Array, lo: Uint32Array, names: string[], modules: (string | undefined)[], hidden: boolean) {
    this.#hi = hi;
    this.#lo = lo;
    this.#names = names;
    this.#modules = modules;
    this.hidden = hidden;
    this.count = names.length;
  }

  /** Parses kallsyms text ("ffffffff81000000 T _stext\t[module]" lines); keeps text (function) symbols. */
  static parse(text: string): KernelSymbols {
    const his: number[] = [], los: number[] = [], names: string[] = [], modules: (string | undefined)[] = [];
    let nonZero = false, lines = 0;
    let pos = 0;
    while (pos < text.length) {
      let nl = text.indexOf("\n", pos);
      if (nl < 0) nl = text.length;
      const line = text.slice(pos, nl);
      pos = nl + 1;
      const sp1 = line.indexOf(" ");
      if (sp1 < 0) continue;
      lines++;
      const type = line.charCodeAt(sp1 + 1) | 0x20; // lower case: t, w
      if (type !== 0x74 /* t */ && type !== 0x77 /* w */) continue;
      const hex = line.slice(0, sp1);
      const rest = line.slice(sp1 + 3);
      const tab = rest.indexOf("\t");
      const name = tab < 0 ? rest : rest.slice(0, tab);
      const module = tab < 0 ? undefined : rest.slice(tab + 1).replace(/^\[|\]$/g, "");
      const hi = hex.length > 8 ? parseInt(hex.slice(0, hex.length - 8), 16) : 0;
      const lo = parseInt(hex.slice(-8), 16);
      if (hi !== 0 || lo !== 0) nonZero = true;
      his.push(hi);
      los.push(lo);
      names.push(name);
      modules.push(module);
    }
    const hidden = lines > 0 && !nonZero;
    const order = Array.from(names.keys());
    if (!hidden) order.sort((a, b) => his[a] - his[b] || los[a] - los[b]);
    return new KernelSymbols(
      Uint32Array.from(order, (i) => his[i]), Uint32Array.from(order, (i) => los[i]),
      order.map((i) => names[i]), order.map((i) => modules[i]), hidden,
    );
  }

  /** Reads /proc/kallsyms now (modules and BPF programs come and go, so do not keep it for long). */
  static load(path = "/proc/kallsyms"): KernelSymbols {
    let text = "";
    try {
      text = readFileSync(path, "latin1");
    } catch {
      // no procfs or no permission: nothing can be named
    }
    return KernelSymbols.parse(text);
  }

  /** The function containing a kernel address, or null (unknown, or addresses hidden). */
  symbolize(addr: bigint): KernelSymbol | null {
    if (this.hidden || this.count === 0) return null;
    const hi = Number(addr >> 32n), lo = Number(addr & 0xffffffffn);
    const h = this.#hi, l = this.#lo;
    let a = 0, b = this.count - 1, at = -1;
    while (a <= b) {
      const mid = (a + b) >> 1;
      if (h[mid] < hi || (h[mid] === hi && l[mid] <= lo)) {
        at = mid;
        a = mid + 1;
      } else {
        b = mid - 1;
      }
    }
    if (at < 0 || h[at] !== hi) return null;
    const offset = lo - l[at];
    // Below the next symbol by construction; past the last one only up to MAX_SPAN.
    const last = !(at + 1 < this.count && h[at + 1] === hi);
    if (last && offset > MAX_SPAN) return null;
    return { name: this.#names[at], module: this.#modules[at], offset };
  }

  /** The address of a kernel function by name (the first if several), or undefined. */
  address(name: string): bigint | undefined {
    if (!this.#byName) {
      this.#byName = new Map();
      for (let i = 0; i < this.count; i++) if (!this.#byName.has(this.#names[i])) this.#byName.set(this.#names[i], i);
    }
    const i = this.#byName.get(name);
    return i === undefined ? undefined : (BigInt(this.#hi[i]) << 32n) | BigInt(this.#lo[i]);
  }
}
