/* The errors XDP adds: a wrong interface name, and an interface that already has
 * an XDP program (bpfbook never replaces someone else's). */
import { BpfbookError } from "../../errors.js";

/** No interface by that name in this network namespace; `suggestions` are the nearest names. */
export class UnknownInterfaceError extends BpfbookError {
  readonly interface: string;
  readonly suggestions: string[];
  readonly available: string[];
  constructor(name: string, suggestions: string[], available: string[]) {
    const hint = suggestions.length ? `; did you mean ${suggestions.join(", ")}?` : "";
    super("ENODEV", `no network interface "${name}" in this network namespace${hint} (interfaces here: ${available.join(", ") || "none"})`, { errno: 19 });
    this.interface = name;
    this.suggestions = suggestions;
    this.available = available;
  }
}

/** The interface already has an XDP program attached: bpfbook does not replace it. */
export class XdpBusyError extends BpfbookError {
  readonly interface: string;
  readonly programId: number;
  readonly programName: string | null;
  readonly mode: string;
  constructor(iface: string, programId: number, programName: string | null, mode: string) {
    const who = `program ${programId}${programName ? ` "${programName}"` : ""}`;
    super(
      "EXDPBUSY",
      `interface ${iface} already has an XDP program attached (${who}, ${mode} mode); bpfbook will not replace it. ` +
        `See it with \`bpftool net show dev ${iface}\`. If it was attached with ip or libxdp, \`ip link set dev ${iface} xdp off\` removes it; ` +
        `if it is held by a process through a bpf_link (another bpfbook session, say), it goes when that process stops it or exits.`,
      { errno: 16 },
    );
    this.interface = iface;
    this.programId = programId;
    this.programName = programName;
    this.mode = mode;
  }
}
