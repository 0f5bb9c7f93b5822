/* Replay protection, as ipykernel has it: a signature seen before means the same
 * signed message sent again (anyone who can read the traffic can resend it), so it
 * is dropped. Bounded: the oldest digests are forgotten first. */
export class SeenDigests {
  readonly #seen = new Set<string>();
  constructor(readonly limit = 1 << 16) {}

  /** Records `digest`; false when it was already seen (a replay). An empty digest (signing off) is never a replay. */
  add(digest: string): boolean {
    if (digest === "") return true;
    if (this.#seen.has(digest)) return false;
    this.#seen.add(digest);
    // A Set iterates in insertion order: the first entry is the oldest.
    if (this.#seen.size > this.limit) this.#seen.delete(this.#seen.values().next().value!);
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }
}
