/* The programs of a user's object while they are attached: a Running like every
 * collection, so a notebook interrupt (stopAll) detaches them and the live display
 * shows them; run() waits on it. */
import type { Link } from "../../libbpf/link.js";
import { releaseLinks } from "../../engine/release.js";
import { started, stopped, type Running, type RunningStats, type StoppedBy } from "../../engine/running.js";
import { track, untrack } from "../../lifecycle.js";

export class Attachment implements Running, Disposable {
  readonly source: string;
  #links: Link[];
  #t0 = process.hrtime.bigint();
  #stoppedBy: StoppedBy = "stop";
  #done: Promise<void>;
  #resolve!: () => void;

  constructor(source: string, links: Link[]) {
    this.source = source;
    this.#links = links;
    this.#done = new Promise((r) => (this.#resolve = r));
    track(this);
    started(this);
  }

  get running(): boolean {
    return this.#links.length > 0;
  }

  /** Resolves once detached (stop(), an interrupt, dispose). */
  get done(): Promise<void> {
    return this.#done;
  }

  get stoppedBy(): StoppedBy {
    return this.#stoppedBy;
  }

  progressStats(): RunningStats {
    return { source: this.source, received: 0, lost: 0, seconds: Number(process.hrtime.bigint() - this.#t0) / 1e9, stoppedBy: this.#stoppedBy };
  }

  describe(): string {
    return `${this.source}: ${this.#links.length} link${this.#links.length === 1 ? "" : "s"} attached`;
  }

  /** Detaches every link (idempotent). Throws the first detach error, after detaching the rest. */
  detach(by: StoppedBy = "stop"): void {
    if (!this.#links.length) return;
    this.#stoppedBy = by;
    const links = this.#links;
    this.#links = [];
    const error = releaseLinks(links);
    untrack(this);
    stopped(this);
    this.#resolve();
    if (error) throw error;
  }

  async stop(by: StoppedBy = "stop"): Promise<void> {
    this.detach(by);
  }

  result(): null {
    return null;
  }

  [Symbol.dispose](): void {
    this.detach("stop");
  }
}
