/* A ring buffer of a user's program read as a table: the record type from the
 * object's BTF decodes each record into columns, the shared Trace engine pumps,
 * stops and counts. A collection attaches the programs for its duration, so its
 * counters (RINGBUF's produced and lost) are its own, exactly. */
import type { BpfMap } from "../../libbpf/map.js";
import type { BpfObject } from "../../libbpf/object.js";
import type { Link } from "../../libbpf/link.js";
import { possibleCpus } from "../../libbpf/map.js";
import { Trace, type CollectOptions, type StopOptions } from "../../engine/trace.js";
import { collect, stream, type StreamOptions } from "../../engine/consume.js";
import type { TraceTable } from "../../engine/table.js";
import { Stat } from "../../engine/layout.js";
import { RecordDecoder } from "./record-decoder.js";
import type { RecordLayout } from "./layout.js";
import type { AttachOptions } from "./types.js";

/** What a ring needs from its program: the loaded object, and attaching for a collection. */
export interface EventsOwner {
  readonly name: string;
  loadedObject(): BpfObject;
  /** Attaches the programs for a collection (refused while they are attached already). */
  attachForCollection(opts: AttachOptions): Link[];
}

function zeroCounters(stats: BpfMap): void {
  const zero = new Uint8Array(8 * possibleCpus());
  for (let i = 0; i < stats.maxEntries && i <= Stat.lost; i++) {
    const key = new Uint8Array(4);
    new DataView(key.buffer).setUint32(0, i, true);
    stats.update(key, zero);
  }
}

export class CustomEvents<Row extends object> {
  readonly ring: string;
  readonly layout: RecordLayout;
  readonly #owner: EventsOwner;
  readonly #stats: string | undefined;

  /** @internal made by BpfCProgram.events() */
  constructor(owner: EventsOwner, ring: string, layout: RecordLayout, stats: string | undefined) {
    this.#owner = owner;
    this.ring = ring;
    this.layout = layout;
    this.#stats = stats;
  }

  /** The record's columns, in order. */
  get columns(): string[] {
    return this.layout.leaves.map((l) => l.name);
  }

  /** Loads (if needed), attaches the programs and starts reading the ring; stop() the trace to detach. */
  start(opts: StopOptions & AttachOptions = {}): Trace<Row> {
    const object = this.#owner.loadedObject();
    const ring: BpfMap = object.map(this.ring);
    // RINGBUF() always declares its counters; a ring without them is refused before this (no record type)
    const stats = this.#stats === undefined ? null : object.map(this.#stats);
    return new Trace<Row>(
      {
        source: `${this.#owner.name}: ${this.ring}`,
        object,
        ring,
        counters: stats,
        eventSize: this.layout.size,
        bufferBytes: ring.maxEntries,
        fields: [],
        decoder: (view) => new RecordDecoder(view, this.layout),
        attach: () => {
          if (stats) zeroCounters(stats);
          return this.#owner.attachForCollection(opts);
        },
        // the Trace detaches the links it was given; the object stays loaded, its maps readable
        release: () => null,
      },
      opts,
    );
  }

  /** Attaches, collects until a stop condition (seconds, events, signal), detaches: one table of records. */
  collect(opts?: CollectOptions & AttachOptions): Promise<TraceTable<Row>> {
    return collect<Row>((o) => this.start({ ...opts, ...o }), opts);
  }

  /** Attaches and yields the records as tables as they arrive, until a stop condition; detaches at the end. */
  stream(opts?: StreamOptions & AttachOptions): AsyncGenerator<TraceTable<Row>> {
    return stream<Row>((o) => this.start({ ...opts, ...o }), opts);
  }
}
