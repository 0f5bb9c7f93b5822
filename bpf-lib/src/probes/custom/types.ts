/* The typed face of a user's BPF C: what its compiled object holds, as TypeScript
 * types (generated from its BTF by ts-types.ts, checked in later cells), and the
 * options of compiling, loading and attaching it. */
import type { CompileOptions } from "./compile.js";
import type { XdpMode } from "../xdp/attach.js";

/**
 * What a program's object holds: rings of records (RINGBUF), maps with their key and
 * value rows, histograms (HIST) with their key rows, and `const volatile` globals.
 * The notebook fills it in from the object's BTF; without it, names are plain strings.
 */
export interface CustomTypes {
  events: Record<string, Record<string, unknown>>;
  maps: Record<string, { kind: string; key: Record<string, unknown>; value: Record<string, unknown> }>;
  hists: Record<string, { key: Record<string, unknown> }>;
  globals: Record<string, unknown>;
}

/** How to compile and load: the compile options, the globals, and the ring sizes. */
export interface BpfCOptions extends CompileOptions {
  /** A name for the program (its cell's): loading a program of the same name releases the previous one. */
  name?: string;
  /** `const volatile` globals to set before load (also `prog.set()`). */
  globals?: Record<string, unknown>;
  /** Bytes of every ring buffer (a power of two of at least one page; default what RINGBUF declares, 4 MiB). */
  bufferBytes?: number;
}

/** What the programs that libbpf cannot attach by their SEC name alone need. */
export interface AttachOptions {
  /** The interface of SEC("xdp") programs. */
  xdp?: string;
  /** XDP attach mode (default "auto": native where the driver can, else generic). */
  xdpMode?: XdpMode;
  /** Samples per second per CPU of SEC("perf_event") programs (cpu-clock). Default 99. */
  hz?: number;
  /** Only these programs (by function name) are attached; default all. */
  programs?: readonly string[];
}

/** How to read a plain libbpf ring, declared without RINGBUF(). */
export interface EventsOptions {
  /** The C name of its record type in the object's BTF: `"struct event"` (or `"event"`, or a typedef). */
  record: string;
}
