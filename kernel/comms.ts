/* Comms: kernel-side endpoints of frontend widgets and extensions. Targets are
 * registered by name; a built-in "bpfbook.echo" target answers every message
 * with the same data (used by tests and to check a frontend's comm support). */
export interface Comm {
  readonly id: string;
  readonly target: string;
  send(data: unknown): void;
  close(data?: unknown): void;
  onMessage: ((data: unknown) => void) | null;
  onClose: ((data: unknown) => void) | null;
}

export type CommTarget = (comm: Comm, data: unknown) => void;

export class CommRegistry {
  readonly targets = new Map<string, CommTarget>([["bpfbook.echo", (comm) => { comm.onMessage = (d) => comm.send(d); }]]);
  readonly open = new Map<string, Comm>();

  info(target?: string): Record<string, { target_name: string }> {
    const out: Record<string, { target_name: string }> = {};
    for (const c of this.open.values()) if (!target || c.target === target) out[c.id] = { target_name: c.target };
    return out;
  }
}
