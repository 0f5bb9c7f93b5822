/* The connection file Jupyter hands a kernel: where to bind, and the signing key. */
import { readFileSync } from "node:fs";

export interface ConnectionInfo {
  transport: "tcp" | "ipc";
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: string;
  kernel_name?: string;
}

export function readConnection(path: string): ConnectionInfo {
  const c = JSON.parse(readFileSync(path, "utf8")) as Partial<ConnectionInfo>;
  for (const k of ["ip", "shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"] as const) {
    if (c[k] === undefined) throw new Error(`connection file ${path} has no ${k}`);
  }
  return { transport: "tcp", key: "", signature_scheme: "hmac-sha256", ...c } as ConnectionInfo;
}

export function address(c: ConnectionInfo, port: number): string {
  return c.transport === "ipc" ? `ipc://${c.ip}-${port}` : `tcp://${c.ip}:${port}`;
}
