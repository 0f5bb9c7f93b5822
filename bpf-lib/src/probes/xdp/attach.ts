/* Finding an interface, seeing what XDP program it has, and attaching ours through a
 * bpf_link (so the kernel detaches it when the process dies): native mode where the
 * driver has it, generic (skb) mode otherwise, or as asked. */
import { readdirSync } from "node:fs";
import { ifNameToIndex } from "../../ffi/libc.js";
import * as xffi from "../../ffi/xdp.js";
import { AttachError, BpfbookError, NotSupportedError, PermissionError, errnoName } from "../../errors.js";
import type { BpfProgram } from "../../libbpf/program.js";
import type { Link } from "../../libbpf/link.js";
import { nearest } from "../../tracefs/nearest.js";
import { UnknownInterfaceError, XdpBusyError } from "./errors.js";
import { XdpFdLink } from "./link.js";

/** How to attach: "auto" lets the kernel pick native mode where the driver supports it, else generic. */
export type XdpMode = "auto" | "native" | "generic";
/** How a program is attached: in the driver, in the generic (skb) path, or offloaded to the NIC. */
export type XdpAttachedMode = "native" | "generic" | "offload";

export interface NetworkInterface {
  name: string;
  ifindex: number;
}

/** Interface names in this network namespace. */
export function listInterfaces(): string[] {
  try {
    return readdirSync("/sys/class/net").sort();
  } catch {
    return [];
  }
}

/** The interface by name, or UnknownInterfaceError with the nearest names. */
export function resolveInterface(name: string): NetworkInterface {
  if (typeof name !== "string" || name.length === 0) throw new UnknownInterfaceError(String(name), [], listInterfaces());
  const ifindex = name.length < 16 ? ifNameToIndex(name) : 0;
  if (ifindex > 0) return { name, ifindex };
  const all = listInterfaces();
  throw new UnknownInterfaceError(name, nearest(name, all, 3), all);
}

function modeName(attachMode: number): XdpAttachedMode {
  return attachMode === xffi.XDP_ATTACHED.skb ? "generic" : attachMode === xffi.XDP_ATTACHED.hw ? "offload" : "native";
}

export interface AttachedProgram {
  id: number;
  name: string | null;
  tag: string | null;
  mode: XdpAttachedMode;
}

/** The XDP programs attached to an interface now (native, generic, offloaded), none → []. */
export function xdpPrograms(iface: NetworkInterface): AttachedProgram[] {
  const q = xffi.xdpQuery(iface.ifindex);
  if (typeof q === "number") {
    if (-q === 19) throw new UnknownInterfaceError(iface.name, [], listInterfaces());
    throw new AttachError(`cannot query XDP programs of ${iface.name}: ${errnoName(-q)}`, -q);
  }
  const out: AttachedProgram[] = [];
  const add = (id: number, mode: XdpAttachedMode) => {
    if (!id || out.some((p) => p.id === id && p.mode === mode)) return;
    const info = xffi.programInfo(id);
    out.push({ id, name: info?.name ?? null, tag: info?.tag ?? null, mode });
  };
  add(q.drvProgId, "native");
  add(q.skbProgId, "generic");
  add(q.hwProgId, "offload");
  if (out.length === 0 && q.progId) add(q.progId, modeName(q.attachMode));
  return out;
}

function busy(iface: NetworkInterface): XdpBusyError | null {
  const [p] = xdpPrograms(iface);
  return p ? new XdpBusyError(iface.name, p.id, p.name, p.mode) : null;
}

function errnoOf(e: unknown): number {
  return e instanceof BpfbookError ? e.errno ?? 0 : 0;
}

export interface XdpAttachment {
  link: Link;
  mode: XdpAttachedMode;
  programId: number;
}

/**
 * Attaches a loaded XDP program to an interface through a bpf_link. Refuses
 * (XdpBusyError) when the interface already has an XDP program, whoever attached it.
 * Dispose the returned link to detach: a link made for an explicit mode is a bare fd
 * that the program's object does not own (AggregationRun and Trace dispose their
 * links before their objects, so runs need nothing more).
 */
export function attachXdpProgram(program: BpfProgram, iface: NetworkInterface, mode: XdpMode = "auto"): XdpAttachment {
  const before = busy(iface);
  if (before) throw before;
  const target = iface.name;
  const withFlags = (flags: number, what: string): Link => {
    const fd = xffi.linkCreateXdp(program.fd, iface.ifindex, flags);
    if (fd >= 0) return new XdpFdLink(fd, program.name, target);
    const e = -fd;
    if (e === 16 || e === 17) throw busy(iface) ?? new AttachError(`attaching XDP program "${program.name}" to ${target} in ${what} mode failed: ${errnoName(e)}`, e);
    if (e === 1 || e === 13) throw new PermissionError(`attaching an XDP program to ${target} was refused (${errnoName(e)}): it needs CAP_NET_ADMIN and CAP_BPF (run as root)`, { errno: e });
    if (e === 95 || e === 524) throw new NotSupportedError(`${what} XDP on ${target}`, `its driver cannot run XDP programs in ${what} mode (${errnoName(e)}); use mode: "generic" or "auto"`, { errno: e });
    if (e === 34) throw new NotSupportedError(`${what} XDP on ${target}`, `the driver refused the program (${errnoName(e)}: often the MTU is too large for ${what} XDP); lower the MTU or use mode: "generic"`, { errno: e });
    throw new AttachError(`attaching XDP program "${program.name}" to ${target} in ${what} mode failed: ${errnoName(e)}`, e);
  };
  let link: Link;
  if (mode === "native") link = withFlags(xffi.XDP_FLAGS.drvMode, "native");
  else if (mode === "generic") link = withFlags(xffi.XDP_FLAGS.skbMode, "generic");
  else {
    try {
      // flags 0: the kernel picks native mode if the driver has it, else generic
      link = program.attachXdp(iface.ifindex, iface.name);
    } catch (err) {
      const e = errnoOf(err);
      if (e === 16 || e === 17) throw busy(iface) ?? err;
      if (e === 1 || e === 13) throw err;
      // the driver has native XDP but refused this program (MTU, queues...): generic mode works everywhere
      link = withFlags(xffi.XDP_FLAGS.skbMode, "generic");
    }
  }
  const [now] = xdpPrograms(iface);
  return { link, mode: now?.mode ?? (mode === "generic" ? "generic" : "native"), programId: now?.id ?? 0 };
}
