/* stdout/stderr of the main thread become "stream" messages for the cell that is
 * running (or ran last). Writes are coalesced and flushed before any other output,
 * so the order the user sees is the order things happened. */
import type { Header } from "./wire/message.js";

type Send = (name: "stdout" | "stderr", text: string, parent: Partial<Header>) => void;

export class OutputCapture {
  #parent: Partial<Header> | null = null;
  #pending: { name: "stdout" | "stderr"; text: string } | null = null;
  #timer: NodeJS.Timeout | null = null;
  readonly #send: Send;
  readonly #orig = { stdout: process.stdout.write.bind(process.stdout), stderr: process.stderr.write.bind(process.stderr) };

  constructor(send: Send) {
    this.#send = send;
    for (const name of ["stdout", "stderr"] as const) {
      const stream = process[name];
      stream.write = ((chunk: unknown, enc?: unknown, cb?: unknown) => {
        const text = typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString(typeof enc === "string" ? (enc as BufferEncoding) : "utf8");
        this.#write(name, text);
        const done = typeof enc === "function" ? enc : cb;
        if (typeof done === "function") queueMicrotask(() => (done as () => void)());
        return true;
      }) as typeof stream.write;
    }
  }

  /** The request whose cell output belongs to from now on. */
  set parent(p: Partial<Header> | null) {
    this.flush();
    if (p) this.#parent = p;
  }

  #write(name: "stdout" | "stderr", text: string): void {
    if (!this.#parent) {
      this.#orig[name](text); // nothing running yet: the kernel's own log
      return;
    }
    if (this.#pending && this.#pending.name !== name) this.flush();
    if (this.#pending) this.#pending.text += text;
    else this.#pending = { name, text };
    if (this.#pending.text.length > 65536) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), 30);
  }

  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const p = this.#pending;
    this.#pending = null;
    if (p && this.#parent) this.#send(p.name, p.text, this.#parent);
  }

  /** The kernel's own diagnostics go to the real stderr, never into a cell's output. */
  log(text: string): void {
    this.#orig.stderr(text.endsWith("\n") ? text : text + "\n");
  }
}
