/* The koffi declarations of the libbpf calls XDP needs beyond ffi/libbpf.ts:
 * bpf_link_create (libbpf 1.1's bpf_program__attach_xdp always passes flags 0, so
 * native-only or generic-only attachment needs the raw call), bpf_xdp_query (what is
 * attached to an interface), and the name of a program by id. Everything here deals
 * in fds and ids; no address leaves this file. */
import koffi from "koffi";
import type { LinkHandle } from "./libbpf.js";
import { declareOnce } from "./load.js";

const libc = koffi.load("libc.so.6");

/** struct bpf_link_create_opts (libbpf 1.1: 64 bytes); only `flags` is set here. */
const LinkCreateOpts = koffi.struct("bpfbook_link_create_opts", {
  sz: "size_t",
  flags: "uint32_t",
  _pad: "uint32_t",
  _rest: koffi.array("uint64_t", 6),
});

/** struct bpf_xdp_query_opts (libbpf 1.1: 32 bytes). */
const XdpQueryOpts = koffi.struct("bpfbook_xdp_query_opts", {
  sz: "size_t",
  prog_id: "uint32_t",
  drv_prog_id: "uint32_t",
  hw_prog_id: "uint32_t",
  skb_prog_id: "uint32_t",
  attach_mode: "uint8_t",
  _pad: koffi.array("uint8_t", 7),
});

/** Declared at the first call, when libbpf is loaded (ffi/load.ts). */
const fns = declareOnce((lib) => ({
  link_create: lib.func("int bpf_link_create(int prog_fd, int target_fd, int attach_type, bpfbook_link_create_opts *opts)"),
  xdp_query: lib.func("int bpf_xdp_query(int ifindex, int flags, _Inout_ bpfbook_xdp_query_opts *opts)"),
  prog_get_fd_by_id: lib.func("int bpf_prog_get_fd_by_id(uint32_t id)"),
  obj_get_info_by_fd: lib.func("int bpf_obj_get_info_by_fd(int fd, _Inout_ uint8_t *info, _Inout_ uint32_t *info_len)"),
}));

const c = {
  fcntl: libc.func("int fcntl(int fd, int cmd, ...)"),
  close: libc.func("int close(int fd)"),
};

const BPF_XDP = 37;
export const XDP_FLAGS = { skbMode: 1 << 1, drvMode: 1 << 2, hwMode: 1 << 3 } as const;
/** bpf_xdp_query's attach_mode. */
export const XDP_ATTACHED = { none: 0, drv: 1, skb: 2, hw: 3, multi: 4 } as const;

/**
 * The handle of links that are bare fds (made by bpf_link_create, not by libbpf's
 * attach functions): never passed to libbpf; such links override every method that
 * would use it (see probes/xdp/link.ts).
 */
export const NO_LINK_HANDLE = 0n as LinkHandle;

/** bpf_link_create(prog, ifindex, BPF_XDP, { flags }): the link fd, or -errno. */
export function linkCreateXdp(progFd: number, ifindex: number, flags: number): number {
  const fd = fns().link_create(progFd, ifindex, BPF_XDP, { sz: koffi.sizeof(LinkCreateOpts), flags, _pad: 0, _rest: [0, 0, 0, 0, 0, 0] }) as number;
  return fd < 0 ? -koffi.errno() || fd : fd;
}

export interface XdpQuery {
  progId: number;
  drvProgId: number;
  skbProgId: number;
  hwProgId: number;
  attachMode: number;
}

/** What XDP programs an interface has (netlink, through libbpf); -errno on failure. */
export function xdpQuery(ifindex: number): XdpQuery | number {
  const o = { sz: koffi.sizeof(XdpQueryOpts), prog_id: 0, drv_prog_id: 0, hw_prog_id: 0, skb_prog_id: 0, attach_mode: 0, _pad: [0, 0, 0, 0, 0, 0, 0] };
  const rc = fns().xdp_query(ifindex, 0, o) as number;
  if (rc < 0) return rc;
  return { progId: o.prog_id, drvProgId: o.drv_prog_id, skbProgId: o.skb_prog_id, hwProgId: o.hw_prog_id, attachMode: o.attach_mode };
}

/** Name and tag of a loaded program by id (null if it is gone or cannot be opened). */
export function programInfo(id: number): { name: string; tag: string } | null {
  const fd = fns().prog_get_fd_by_id(id) as number;
  if (fd < 0) return null;
  try {
    // struct bpf_prog_info: tag at 8 (8 bytes), name at 64 (16 bytes); ask for the first 80.
    const info = new Uint8Array(80);
    const len = [80];
    if ((fns().obj_get_info_by_fd(fd, info, len) as number) < 0) return null;
    const nameBytes = info.subarray(64, 80);
    const end = nameBytes.indexOf(0);
    const name = Buffer.from(nameBytes.subarray(0, end < 0 ? 16 : end)).toString("utf8");
    const tag = Buffer.from(info.subarray(8, 16)).toString("hex");
    return { name, tag };
  } finally {
    c.close(fd);
  }
}

/** A second fd for the same kernel object (F_DUPFD_CLOEXEC), or -errno. */
export function dupFd(fd: number): number {
  const r = c.fcntl(fd, 1030 /* F_DUPFD_CLOEXEC */, "int", 3) as number;
  return r < 0 ? -koffi.errno() : r;
}

export function closeFd(fd: number): void {
  if (fd >= 0) c.close(fd);
}
