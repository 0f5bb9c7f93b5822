/* The fleet's named errors. A host's failure is data (it lands in `fleet.hosts` and
 * `fleet.missing`), never the whole call's failure, unless every host failed: then
 * FleetFailedError lists each host's reason. Each error says what was wrong and what
 * would work, like the rest of bpfbook's errors. */
import { BpfbookError } from "../errors.js";

/** A probe description that cannot travel: an argument that is not plain data, or a call the agent does not allow. */
export class FleetPlanError extends BpfbookError {
  /** The call ("count()", "tracepoint()") and the argument's path ("argument 1 .by[0]"), when an argument was at fault. */
  readonly call: string;
  readonly path: string;
  constructor(call: string, path: string, message: string) {
    super("EFLEETPLAN", path ? `${call} ${path}: ${message}` : `${call}: ${message}`);
    this.call = call;
    this.path = path;
  }
}

/** The agent speaks another protocol version than this client (or its first frame was not a hello: `agentProtocol` null). */
export class AgentProtocolError extends BpfbookError {
  readonly host: string;
  readonly agentProtocol: unknown;
  readonly clientProtocol: number;
  constructor(host: string, agentProtocol: unknown, clientProtocol: number, agentVersion?: string, firstFrame?: string) {
    const what = firstFrame !== undefined
      ? `its first frame was "${firstFrame}", not the hello every agent of protocol ${clientProtocol} sends first`
      : `the agent speaks fleet protocol ${JSON.stringify(agentProtocol)}${agentVersion ? ` (bpfbook ${agentVersion})` : ""}, this notebook speaks protocol ${clientProtocol}`;
    super("EAGENTPROTO", `${host}: ${what}: install the same bpfbook version on that host (or point the fleet's \`command\` at an agent of protocol ${clientProtocol})`);
    this.host = host;
    this.agentProtocol = agentProtocol;
    this.clientProtocol = clientProtocol;
  }
}

/** A host's own error, as its agent reported it: `.remoteName`, `.remoteCode` and `.remoteMessage` are the host's (its UnknownTracepointError, PermissionError, ...). */
export class AgentError extends BpfbookError {
  readonly host: string;
  readonly remoteName: string;
  readonly remoteCode?: string;
  readonly remoteMessage: string;
  constructor(host: string, remote: { name: string; code?: string; message: string }) {
    super("EAGENT", `${host}: ${remote.name}: ${remote.message}`);
    this.host = host;
    this.remoteName = remote.name;
    if (remote.code !== undefined) this.remoteCode = remote.code;
    this.remoteMessage = remote.message;
  }
}

/** The host could not be reached or its agent never said hello (ssh refused, no such pod, no bpfbook there). */
export class HostUnreachableError extends BpfbookError {
  readonly host: string;
  constructor(host: string, reason: string) {
    super("EHOSTUNREACH", `${host}: no agent answered: ${reason}`);
    this.host = host;
  }
}

/** The connection to a host's agent ended before its results came (ssh dropped, the agent died). */
export class AgentDisconnectedError extends BpfbookError {
  readonly host: string;
  constructor(host: string, reason: string) {
    super("EAGENTGONE", `${host}: the agent's connection ended before its results came: ${reason}; the other hosts' data are kept`);
    this.host = host;
  }
}

/** The run was stopped (the cell interrupted, stop() called) before this host had started it: it has no data, and nothing ran there. */
export class FleetStoppedError extends BpfbookError {
  readonly host: string;
  constructor(host: string) {
    super("EFLEETSTOPPED", `${host}: stopped before the run started there (it was still connecting): nothing ran on it; the other hosts' data are kept`);
    this.host = host;
  }
}

/** A frame on the wire that cannot be read: a bad length, a header that is not JSON, a body past the limit. */
export class FrameError extends BpfbookError {
  constructor(message: string) {
    super("EFRAME", `fleet protocol: ${message}`);
  }
}

/** Every host failed: nothing to return. `.reasons` has each host's error. */
export class FleetFailedError extends BpfbookError {
  readonly reasons: ReadonlyMap<string, Error>;
  constructor(what: string, reasons: ReadonlyMap<string, Error>) {
    super("EFLEETFAILED", `${what}: every host failed:\n${[...reasons].map(([h, e]) => `  ${h}: ${e.name}: ${e.message}`).join("\n")}`);
    this.reasons = reasons;
  }
}
