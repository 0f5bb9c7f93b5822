/* The wire thread: binds the five Jupyter sockets, checks every signature, answers
 * heartbeats, kernel_info and interrupts itself, and forwards everything else to
 * the main thread. It never runs user code, so it stays responsive while a cell
 * spins in a loop. */
import { parentPort, workerData } from "node:worker_threads";
import * as zmq from "zeromq";
import { Signer, decode, encode, header, WireError, type Message } from "./message.js";
import { address, type ConnectionInfo } from "./connection.js";
import type { Channel, OutMessage, ToMain, ToWire, WireRequest } from "./bridge.js";
import { kernelInfo } from "../info.js";
import { SeenDigests } from "./replay.js";
import { Interrupter } from "./interrupt.js";
import { watchParent } from "./parent.js";

const port = parentPort!;
const { connection, session, flags } = workerData as { connection: ConnectionInfo; session: string; flags: Int32Array };
const signer = new Signer(connection.key, connection.signature_scheme);
const post = (m: ToMain) => port.postMessage(m);
const log = (text: string) => post({ type: "log", text });
const seen = new SeenDigests();
const interrupter = new Interrupter(flags, log);

const shell = new zmq.Router();
const control = new zmq.Router();
const stdin = new zmq.Router();
const iopub = new zmq.Publisher();
const hb = new zmq.Reply();

/** zeromq allows one pending send per socket: queue them, in order. */
class Outbox {
  #tail: Promise<void> = Promise.resolve();
  constructor(private readonly sock: zmq.Router | zmq.Publisher) {}
  send(frames: Buffer[]): Promise<void> {
    this.#tail = this.#tail.then(() => this.sock.send(frames)).catch((e: unknown) => log(`send failed: ${String(e)}`));
    return this.#tail;
  }
}
const outboxes: Record<Channel, Outbox> = { shell: new Outbox(shell), control: new Outbox(control), stdin: new Outbox(stdin), iopub: new Outbox(iopub) };

function send(m: OutMessage): Promise<void> {
  const h = header(m.msgType, session);
  const idents = m.channel === "iopub" ? [Buffer.from(m.msgType)] : (m.idents ?? []).map((i) => Buffer.from(i));
  const frames = encode({ idents, header: h, parent_header: m.parent ?? {}, metadata: m.metadata ?? {}, content: m.content, buffers: (m.buffers ?? []).map((b) => Buffer.from(b)) }, signer);
  return outboxes[m.channel].send(frames);
}

function reply(channel: Channel, req: Message, msgType: string, content: unknown): Promise<void> {
  return send({ channel, msgType, content, parent: req.header, idents: req.idents });
}

function status(req: Message, state: "busy" | "idle"): Promise<void> {
  return send({ channel: "iopub", msgType: "status", content: { execution_state: state }, parent: req.header });
}

function forward(channel: Channel, m: Message): void {
  const request: WireRequest = { channel, idents: m.idents, header: m.header, parent_header: m.parent_header, metadata: m.metadata, content: m.content, buffers: m.buffers };
  post({ type: "request", request });
}

async function serve(channel: "shell" | "control" | "stdin", sock: zmq.Router): Promise<void> {
  for await (const frames of sock) {
    let m: Message;
    try {
      m = decode(frames as Buffer[], signer);
    } catch (e) {
      // A message we cannot authenticate is never acted on.
      log(`dropped a message on ${channel}: ${e instanceof WireError ? e.message : String(e)}`);
      continue;
    }
    if (!seen.add(m.signature ?? "")) {
      // Same signature as an earlier message: a replay, never acted on twice.
      log(`dropped a replayed message on ${channel}: ${m.header.msg_type} ${m.header.msg_id}`);
      continue;
    }
    const type = m.header.msg_type;
    if (type === "kernel_info_request") {
      await status(m, "busy");
      await reply(channel, m, "kernel_info_reply", kernelInfo());
      await status(m, "idle");
    } else if (channel === "control" && type === "interrupt_request") {
      void interrupter.interrupt();
      await reply(channel, m, "interrupt_reply", { status: "ok" });
    } else if (channel === "control" && type === "shutdown_request") {
      const restart = Boolean(m.content.restart);
      await reply(channel, m, "shutdown_reply", { status: "ok", restart });
      await status(m, "idle");
      shutdown(restart);
    } else if (channel === "control" && type === "debug_request") {
      await reply(channel, m, "debug_reply", { status: "error", message: "bpfbook has no debugger" });
    } else {
      forward(channel, m);
    }
  }
}

/** The main thread exits after releasing what is attached; if a cell keeps it busy, the process is stopped anyway (links are fds: the kernel releases them). */
function shutdown(restart: boolean): void {
  post({ type: "shutdown", restart });
  setTimeout(() => process.kill(process.pid, "SIGTERM"), 2000).unref();
  setTimeout(() => process.kill(process.pid, "SIGKILL"), 4000).unref();
}

async function heartbeat(): Promise<void> {
  for await (const frames of hb) await hb.send(frames as Buffer[]);
}

async function main(): Promise<void> {
  for (const s of [shell, control, stdin, iopub, hb]) s.linger = 0;
  await Promise.all([
    shell.bind(address(connection, connection.shell_port)),
    control.bind(address(connection, connection.control_port)),
    stdin.bind(address(connection, connection.stdin_port)),
    iopub.bind(address(connection, connection.iopub_port)),
    hb.bind(address(connection, connection.hb_port)),
  ]);
  port.on("message", (m: ToWire) => {
    if (m.type === "send") void send(m.message);
    else if (m.type === "close") {
      interrupter.close();
      for (const s of [shell, control, stdin, iopub, hb]) s.close();
    }
  });
  post({ type: "ready" });
  watchParent((why) => {
    log(`${why}: shutting down`);
    shutdown(false);
  }, { note: log });
  await Promise.all([serve("shell", shell), serve("control", control), serve("stdin", stdin), heartbeat()]);
}

main().catch((e: unknown) => {
  if (!(e instanceof Error && /closed|ETERM|EAGAIN/.test(String(e)))) log(`wire thread failed: ${e instanceof Error ? e.stack : String(e)}`);
});
