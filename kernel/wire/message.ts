/* Jupyter messages on the wire (messaging protocol 5.3): framing and HMAC-SHA256
 * signatures. Pure: frames in, messages out, so it is tested without sockets. */
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";

export const PROTOCOL_VERSION = "5.3";
const DELIM = "<IDS|MSG>";

export interface Header {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
}

export interface Message<C = Record<string, unknown>> {
  /** ROUTER identities of the sender; replies go back to them. */
  idents: Buffer[];
  header: Header;
  parent_header: Partial<Header>;
  metadata: Record<string, unknown>;
  content: C;
  buffers: Buffer[];
  /** The HMAC the message arrived with (decode only), for replay detection. */
  signature?: string;
}

export class Signer {
  readonly #key: Buffer;
  constructor(key: string, scheme = "hmac-sha256") {
    if (key && scheme !== "hmac-sha256") throw new Error(`unsupported signature scheme ${scheme}: only hmac-sha256`);
    this.#key = Buffer.from(key, "utf8");
  }
  /** Hex HMAC of the four JSON frames; "" when the connection has no key (signing disabled). */
  sign(frames: (Buffer | string)[]): string {
    if (this.#key.length === 0) return "";
    const h = createHmac("sha256", this.#key);
    for (const f of frames) h.update(f);
    return h.digest("hex");
  }
  verify(signature: string, frames: Buffer[]): boolean {
    if (this.#key.length === 0) return true;
    const want = Buffer.from(this.sign(frames), "utf8");
    const got = Buffer.from(signature, "utf8");
    return got.length === want.length && timingSafeEqual(got, want);
  }
}

export class WireError extends Error {}

/** Frames received on a ROUTER (or SUB) socket → a message; throws WireError on a bad signature or shape. */
export function decode(frames: Buffer[], signer: Signer): Message {
  const d = frames.findIndex((f) => f.length === DELIM.length && f.toString() === DELIM);
  if (d < 0 || frames.length < d + 6) throw new WireError(`malformed message: ${frames.length} frames, delimiter at ${d}`);
  const [sig, header, parent, metadata, content] = frames.slice(d + 1, d + 6);
  if (!signer.verify(sig.toString(), [header, parent, metadata, content])) throw new WireError("bad signature");
  const parse = (b: Buffer, what: string) => {
    try {
      return JSON.parse(b.toString("utf8")) as Record<string, unknown>;
    } catch {
      throw new WireError(`malformed ${what} JSON`);
    }
  };
  return {
    idents: frames.slice(0, d),
    header: parse(header, "header") as unknown as Header,
    parent_header: parse(parent, "parent_header") as Partial<Header>,
    metadata: parse(metadata, "metadata"),
    content: parse(content, "content"),
    buffers: frames.slice(d + 6),
    signature: sig.toString(),
  };
}

/** A message → frames to send. */
export function encode(msg: Omit<Message<unknown>, "buffers"> & { buffers?: Buffer[] }, signer: Signer): Buffer[] {
  const json = [msg.header, msg.parent_header, msg.metadata, msg.content].map((x) => Buffer.from(JSON.stringify(x ?? {}), "utf8"));
  return [...msg.idents, Buffer.from(DELIM), Buffer.from(signer.sign(json)), ...json, ...(msg.buffers ?? [])];
}

export function header(msgType: string, session: string): Header {
  return { msg_id: randomUUID(), session, username: "bpfbook", date: new Date().toISOString(), msg_type: msgType, version: PROTOCOL_VERSION };
}

/** The header fields a reply carries as its parent (the whole request header). */
export function parentOf(m: Pick<Message, "header">): Partial<Header> {
  return m.header;
}
