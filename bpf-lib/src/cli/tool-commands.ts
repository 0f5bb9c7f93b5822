/* `bpfbook <tool>`: every tool of the collection from the shell, printing a live table as
 * the bcc tool does (events as they come; counts per interval, or once at the end), or
 * JSON lines / CSV for other programs. Options come from the tool's catalog entry. */
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import { InvalidArgumentError } from "../errors.js";
import { registerCommand, parseFlags, type Command } from "./commands.js";
import { TOOLS, type RegisteredTool } from "../tools/registry.js";
import type { ToolOption } from "../tools/tool-info.js";

const COMMON = ["seconds", "interval"];
type Format = "table" | "json" | "csv";

function usageOf(t: RegisteredTool): string {
  const opts: ToolOption[] = [
    ...t.info.options,
    { name: "seconds", type: "number", help: "stop after this many seconds (default: until Ctrl-C)" },
    { name: "interval", type: "number", help: "counting tools: print the counts every this many seconds" },
    { name: "json", type: "boolean", help: "print JSON lines (one object per row)" },
    { name: "csv", type: "boolean", help: "print CSV" },
  ];
  const arg = (o: ToolOption) => `--${o.name}${o.type === "boolean" ? "" : o.type === "list" ? " A,B" : o.type === "number" ? " N" : " X"}`;
  const w = Math.max(...opts.map((o) => arg(o).length)) + 2;
  return [
    `usage: bpfbook ${t.info.name} [OPTIONS]`,
    "",
    `${t.info.summary[0]!.toUpperCase()}${t.info.summary.slice(1)}.`,
    `Like ${t.info.counterpart}; built on ${t.info.builtOn}.`,
    `Columns: ${t.info.columns.join(", ")}.`,
    "",
    ...opts.map((o) => `  ${arg(o).padEnd(w)}${o.help}`),
  ].join("\n");
}

/** Flags to tool options, typed by the catalog entry. */
function toolOptionsFrom(t: RegisteredTool, flags: Map<string, string | true>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const o of t.info.options) {
    const v = flags.get(o.name);
    if (v === undefined) continue;
    if (o.type === "boolean") out[o.name] = true;
    else if (o.type === "number") {
      const n = Number(v);
      if (v === true || !Number.isFinite(n)) throw new InvalidArgumentError(`--${o.name} takes a number, got ${JSON.stringify(v)}`);
      out[o.name] = n;
    } else if (o.type === "list") out[o.name] = String(v).split(",").map((s) => s.trim()).filter(Boolean);
    else out[o.name] = String(v);
  }
  return out;
}

function positiveNumber(flags: Map<string, string | true>, name: string): number | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v === true || !(n > 0)) throw new InvalidArgumentError(`--${name} takes a number of seconds above 0, got ${JSON.stringify(v)}`);
  return n;
}

/** A value as one cell of text. */
function cell(v: unknown, column: string, t0: number): string {
  if (v === null || v === undefined) return "-";
  if (column === "ts" && typeof v === "number") return ((v - t0) / 1e9).toFixed(3);
  if (DURATIONS.has(column) && typeof v === "number") return (v / 1000).toFixed(1);
  if (Array.isArray(v)) return v.join(" ");
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
  return String(v);
}

/** Columns of ns durations, printed in µs. */
const DURATIONS = new Set(["latency", "duration"]);
const header = (c: string) => (c === "ts" ? "TIME(s)" : DURATIONS.has(c) ? `${c === "latency" ? "LAT" : c.toUpperCase()}(us)` : c.toUpperCase());
const csvCell = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const json = (o: unknown) => JSON.stringify(o, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v));

/** Prints tables as they come, in one format, with one header. */
class Printer {
  #widths: number[] | null = null;
  #t0: number | null = null;
  constructor(readonly format: Format, readonly out: (s: string) => void) {}

  rows(t: ColumnTable): void {
    const cols = t.columnNames();
    const rows = t.objects() as Record<string, unknown>[];
    if (this.format === "json") {
      for (const r of rows) this.out(json(r) + "\n");
      return;
    }
    if (this.#t0 === null && rows.length && typeof rows[0]!.ts === "number") this.#t0 = rows[0]!.ts as number;
    const text = rows.map((r) => cols.map((c) => cell(r[c], c, this.#t0 ?? 0)));
    if (this.format === "csv") {
      if (!this.#widths) this.out(cols.map(csvCell).join(",") + "\n");
      this.#widths = [];
      for (const r of text) this.out(r.map(csvCell).join(",") + "\n");
      return;
    }
    if (!this.#widths) {
      // widths from the header and the first rows; later wider values push their line out, as bcc's do
      this.#widths = cols.map((c, i) => Math.min(40, Math.max(header(c).length, ...text.slice(0, 50).map((r) => r[i]!.length))));
      this.out(cols.map((c, i) => (i === cols.length - 1 ? header(c) : header(c).padEnd(this.#widths![i]!))).join(" ") + "\n");
    }
    const w = this.#widths;
    for (const r of text) this.out(r.map((s, i) => (i === r.length - 1 ? s : s.padEnd(w[i]!))).join(" ") + "\n");
  }

  /** A fresh table (counting tools print the whole table each interval). */
  reset(): void {
    this.#widths = null;
  }
}

async function runTool(t: RegisteredTool, args: string[]): Promise<number> {
  const { flags, positional } = parseFlags(args, {
    boolean: ["json", "csv", ...t.info.options.filter((o) => o.type === "boolean").map((o) => o.name)],
    string: [...COMMON, ...t.info.options.filter((o) => o.type !== "boolean").map((o) => o.name)],
  });
  if (positional.length) throw new InvalidArgumentError(`unexpected argument ${JSON.stringify(positional[0])}; see bpfbook ${t.info.name} --help`);
  if (flags.has("json") && flags.has("csv")) throw new InvalidArgumentError("--json and --csv: choose one");
  const format: Format = flags.has("json") ? "json" : flags.has("csv") ? "csv" : "table";
  const seconds = positiveNumber(flags, "seconds");
  const interval = positiveNumber(flags, "interval");
  const tool = await t.make(toolOptionsFrom(t, flags));
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const p = new Printer(format, (s) => process.stdout.write(s));
  const note = (s: string) => process.stderr.write(s);
  if (format === "table") note(`Tracing (${t.info.builtOn})${seconds ? ` for ${seconds} s` : ""}... Ctrl-C to end.\n`);
  try {
    if (tool.kind === "events") {
      if (interval !== undefined) throw new InvalidArgumentError(`--interval is for counting tools; ${t.info.name} prints each event`);
      let last: { stats?: { lost?: number; received?: number } } | null = null;
      for await (const batch of tool.stream({ ...(seconds ? { seconds } : {}), signal: stop.signal })) {
        p.rows(batch);
        last = batch as { stats?: { lost?: number; received?: number } };
      }
      if (last?.stats?.lost) note(`${last.stats.lost} events lost (the ring buffer was full)\n`);
    } else if (tool.kind === "profile") {
      if (interval !== undefined) throw new InvalidArgumentError(`--interval is for counting tools; ${t.info.name} prints its stacks at the end`);
      const run = tool.start({ ...(seconds ? { seconds } : {}), signal: stop.signal });
      p.rows(tool.shape(await run.finished()));
    } else {
      // each tick prints the newest interval only (the table holds every interval so far)
      let printed = 0;
      const newest = (table: ColumnTable): ColumnTable => {
        const t = tool.shape(table);
        if (!t.columnNames().includes("interval")) return t;
        const fresh = t.filter(aq.escape((d: { interval: number }) => d.interval >= printed));
        printed = Math.max(printed - 1, ...Array.from(fresh.array("interval") as ArrayLike<number>)) + 1;
        return fresh;
      };
      const onInterval = (table: ColumnTable) => {
        const t = newest(table);
        if (format === "table") {
          p.reset();
          p.out(`\n${new Date().toTimeString().slice(0, 8)}\n`);
        }
        p.rows(t);
      };
      const run = tool.start({ ...(seconds ? { seconds } : {}), signal: stop.signal, ...(interval ? { interval, onInterval } : {}) });
      const table = await run.finished();
      if (!interval) p.rows(tool.shape(table));
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  return 0;
}

/** Adds `bpfbook tools` and `bpfbook <tool>` for every tool of the collection. */
export function registerToolCommands(): void {
  registerCommand(toolsCommand);
  for (const t of TOOLS) {
    const cmd: Command = { name: t.info.name, summary: t.info.summary, usage: usageOf(t), run: (args) => runTool(t, args), group: "tools" };
    registerCommand(cmd);
  }
}

/** `bpfbook tools`: every tool, and whether this machine can run it (each is made, not run: its probes are resolved). */
const toolsCommand: Command = {
  name: "tools",
  summary: "list the tools collection, and which of them this kernel can run",
  usage: `usage: bpfbook tools [--json]

Lists every tool (bpfbook opensnoop, bpfbook syscount, ...) with the question it answers,
and checks each against this machine without attaching anything: its tracepoints, binaries
and symbols are resolved; a tool that cannot run says why.
  --json   print the list as JSON`,
  async run(args) {
    const { flags } = parseFlags(args, { boolean: ["json"] });
    const rows: { name: string; summary: string; ok: boolean; reason?: string }[] = [];
    for (const t of TOOLS) {
      try {
        await t.make({});
        rows.push({ name: t.info.name, summary: t.info.summary, ok: true });
      } catch (e) {
        rows.push({ name: t.info.name, summary: t.info.summary, ok: false, reason: e instanceof Error ? e.message.split("\n")[0] : String(e) });
      }
    }
    if (flags.has("json")) {
      process.stdout.write(JSON.stringify(rows, null, 2) + "\n");
      return 0;
    }
    const w = Math.max(...rows.map((r) => r.name.length)) + 2;
    for (const r of rows) process.stdout.write(`${r.ok ? "✓" : "✗"} ${r.name.padEnd(w)}${r.summary}${r.ok ? "" : `\n    cannot run here: ${r.reason}`}\n`);
    process.stdout.write(`\n${rows.filter((r) => r.ok).length} of ${rows.length} tools can run on this machine. "bpfbook TOOL --help" for a tool's options.\n`);
    return 0;
  },
};
