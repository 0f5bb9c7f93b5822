/* A BPF object: a spec until load() (configurable: .rodata constants, map sizes,
 * which programs load), kernel objects after. Owns its programs and maps;
 * dispose() closes everything, links included. */
import * as ffi from "../ffi/libbpf.js";
import { rawData } from "../ffi/btf.js";
import { captureLog, tellLine, verifierExcerpt, warnings } from "./log.js";
import { DisposedError, InvalidArgumentError, LoadError, PermissionError, VerifierError, errnoName, NotSupportedError } from "../errors.js";
import { BpfProgram } from "./program.js";
import { BpfMap } from "./map.js";
import type { ObjectOwner } from "./owner.js";
import { privileges, PRIVILEGES_HOW } from "../privileges.js";

export class BpfObject implements ObjectOwner, Disposable {
  readonly name: string;
  #h: ffi.ObjectHandle | null;
  #loaded = false;
  readonly programs: ReadonlyMap<string, BpfProgram>;
  readonly maps: ReadonlyMap<string, BpfMap>;
  #rodata: { map: BpfMap; image: Uint8Array; vars: Map<string, { offset: number; size: number }> } | null = null;

  private constructor(h: ffi.ObjectHandle, name: string) {
    this.#h = h;
    this.name = name;
    const programs = new Map<string, BpfProgram>();
    for (let p = ffi.nextProgram(h, null); p !== null; p = ffi.nextProgram(h, p)) {
      const prog = new BpfProgram(p, this);
      programs.set(prog.name, prog);
    }
    const maps = new Map<string, BpfMap>();
    for (let m = ffi.nextMap(h, null); m !== null; m = ffi.nextMap(h, m)) {
      const map = new BpfMap(m, this);
      maps.set(map.name, map);
    }
    this.programs = programs;
    this.maps = maps;
  }

  /** Opens an ELF object file (compiled with BTF). Nothing reaches the kernel until load(). */
  static open(path: string, name?: string): BpfObject {
    const { result, lines } = captureLog(() => ffi.openFile(path, name));
    if (result === null) {
      const e = ffi.errno();
      throw new LoadError(`cannot open BPF object ${path}: ${errnoName(e)}\n${warnings(lines)}`.trim(), e);
    }
    return new BpfObject(result, name ?? path.replace(/^.*\//, "").replace(/\.bpf\.o$|\.o$/, ""));
  }

  /** Opens an object from memory (an ELF image). */
  static openMemory(image: Uint8Array, name: string): BpfObject {
    const { result, lines } = captureLog(() => ffi.openMem(image, name));
    if (result === null) {
      const e = ffi.errno();
      throw new LoadError(`cannot open BPF object "${name}" from memory: ${errnoName(e)}\n${warnings(lines)}`.trim(), e);
    }
    return new BpfObject(result, name);
  }

  get loaded(): boolean {
    return this.#loaded;
  }

  /** @internal the libbpf handle, for this layer's classes only. */
  handle(): ffi.ObjectHandle {
    if (this.#h === null) throw new DisposedError(`BPF object "${this.name}"`);
    return this.#h;
  }

  program(name: string): BpfProgram {
    const p = this.programs.get(name);
    if (!p) throw new InvalidArgumentError(`object "${this.name}" has no program "${name}"; it has: ${[...this.programs.keys()].join(", ")}`);
    return p;
  }

  map(name: string): BpfMap {
    const m = this.maps.get(name);
    if (!m) throw new InvalidArgumentError(`object "${this.name}" has no map "${name}"; it has: ${[...this.maps.keys()].join(", ")}`);
    return m;
  }

  #rodataImage() {
    if (this.#rodata) return this.#rodata;
    const map = [...this.maps.values()].find((m) => m.name.endsWith(".rodata"));
    const btf = ffi.objectBtf(this.handle());
    const vars = btf && ffi.btfDatasecVars(btf, ".rodata");
    if (!map || !vars) throw new InvalidArgumentError(`object "${this.name}" has no .rodata constants`);
    const image = map.initialValue();
    this.#rodata = { map, image, vars: new Map(vars.map((v) => [v.name, { offset: v.offset, size: v.size }])) };
    return this.#rodata;
  }

  /** The object's own BTF as raw bytes (types of its maps, globals and records), or null when it has none. */
  btfBytes(): Uint8Array | null {
    const btf = ffi.objectBtf(this.handle());
    return btf === null ? null : rawData(btf);
  }

  /** Names and sizes of the `const volatile` globals that can be set before load. */
  constants(): Map<string, { offset: number; size: number }> {
    return new Map(this.#rodataImage().vars);
  }

  /** Sets a `const volatile` global: raw bytes (exact size, or shorter: zero-filled) or a number/bigint for scalars. */
  setConstant(name: string, value: Uint8Array | number | bigint | boolean): void {
    if (this.#loaded) throw new InvalidArgumentError(`cannot set constant "${name}": object "${this.name}" is already loaded`);
    const ro = this.#rodataImage();
    const v = ro.vars.get(name);
    if (!v) throw new InvalidArgumentError(`object "${this.name}" has no constant "${name}"; it has: ${[...ro.vars.keys()].join(", ")}`);
    const dst = ro.image.subarray(v.offset, v.offset + v.size);
    if (value instanceof Uint8Array) {
      if (value.length > v.size) throw new InvalidArgumentError(`constant "${name}" holds ${v.size} bytes, got ${value.length}`);
      dst.fill(0);
      dst.set(value);
    } else {
      const dv = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
      const n = typeof value === "boolean" ? (value ? 1 : 0) : value;
      switch (v.size) {
        case 1: dv.setUint8(0, Number(n) & 0xff); break;
        case 2: dv.setUint16(0, Number(n) & 0xffff, true); break;
        case 4: dv.setUint32(0, Number(BigInt.asUintN(32, BigInt(n))), true); break;
        case 8: dv.setBigUint64(0, BigInt.asUintN(64, BigInt(n)), true); break;
        default: throw new InvalidArgumentError(`constant "${name}" is ${v.size} bytes: pass a Uint8Array`);
      }
    }
    ro.map.setInitialValue(ro.image);
  }

  /** Verifies and loads the programs and creates the maps. Failure throws a typed error and leaves nothing in the kernel. */
  load(): this {
    const h = this.handle();
    if (this.#loaded) return this;
    const { result: rc, lines } = captureLog(() => ffi.objectLoad(h));
    // The verifier's log is in bpfbook's buffer, not printed (ffi/libbpf.ts): it is told here in
    // libbpf's own framing, so whoever captures this load (a custom program's cell-line mapping
    // too) reads it as before.
    const log = rc < 0 ? ffi.verifierLog() : "";
    if (log !== "") {
      const prog = /prog '([^']+)': BPF program load failed/.exec(lines.join(""))?.[1] ?? this.name;
      const block = `libbpf: prog '${prog}': -- BEGIN PROG LOAD LOG --\n${log.endsWith("\n") ? log : log + "\n"}-- END PROG LOAD LOG --\n`;
      lines.push(block);
      tellLine(block);
    }
    if (rc < 0) {
      const e = -rc;
      // libbpf's own lines after the log (a log longer than the print buffer has no END marker) are not the verifier's words
      const excerpt = verifierExcerpt(lines.filter((l) => !l.startsWith("libbpf: ") || l.includes("-- BEGIN PROG LOAD LOG --")));
      const failed = /prog '([^']+)': failed to load/.exec(lines.join(""))?.[1] ?? this.name;
      // Any refusal that comes with a verifier log is the verifier's (E2BIG: too large, EFAULT: too complex, ...); EPERM is about privileges
      if (excerpt !== null && e !== 1) throw new VerifierError(failed, excerpt, e);
      if (e === 1 || e === 13) {
        const p = privileges();
        if (!p.capBpf || !p.capPerfmon) {
          throw new PermissionError(`loading BPF object "${this.name}" was refused (${errnoName(e)}): this process lacks ${[!p.capBpf && "CAP_BPF", !p.capPerfmon && "CAP_PERFMON"].filter(Boolean).join(" and ")}; ${PRIVILEGES_HOW}\n${warnings(lines)}`.trim(), { errno: e });
        }
        // Privileged and still refused: the kernel does not allow this kind of program here.
        throw new NotSupportedError(`program "${failed}"`, `the kernel refused to load it (${errnoName(e)}) although this process has CAP_BPF and CAP_PERFMON; run \`bpfbook doctor\` to see which program kinds work here\n${warnings(lines)}`.trim(), { errno: e });
      }
      throw new LoadError(`loading BPF object "${this.name}" failed: ${errnoName(e)}\n${excerpt ?? warnings(lines)}`.trim(), e);
    }
    this.#loaded = true;
    return this;
  }

  /** Closes the object: detaches its links, then frees programs and maps. Idempotent. */
  dispose(): void {
    const h = this.#h;
    if (h === null) return;
    for (const p of this.programs.values()) p.detachAll();
    for (const m of this.maps.values()) m.release();
    this.#h = null;
    ffi.objectClose(h);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
