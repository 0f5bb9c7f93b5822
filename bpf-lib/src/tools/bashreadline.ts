/* bashreadline: the lines typed into bash, on every bash running the file. A uretprobe on
 * readline() reads the returned string at the return. */
import type { ColumnTable } from "arquero";
import { uretprobe, type UprobeProbe } from "../probes/uprobe/probe.js";
import { InvalidArgumentError, NotSupportedError } from "../errors.js";
import { BinaryNotFoundError, UnknownSymbolError } from "../symbols/errors.js";
import { bar } from "../plot/bar.js";
import { BASHREADLINE } from "./catalog.js";
import { eventsTool, toolOptions, type EventsTool, type ToolFilter } from "./tool.js";

export interface BashreadlineOptions extends ToolFilter {
  /** The program (or library) whose readline() to probe: default "bash" (on PATH); "libreadline" for a bash linked against the shared library. */
  binary?: string;
}

/** A row of bashreadline. */
export interface BashreadlineRow {
  ts: number;
  pid: number;
  tid: number;
  comm: string;
  /** The line as typed, without its newline (cut at 128 bytes, counted in stats.truncated). */
  line: string;
}

/** Each line bash reads with readline(): who typed it, and what. */
export function bashreadline(options?: BashreadlineOptions): EventsTool<BashreadlineRow> {
  const o = toolOptions(options, BASHREADLINE);
  const binary = o.binary ?? "bash";
  if (typeof binary !== "string" || binary === "") throw new InvalidArgumentError(`tools.bashreadline(): binary must be a non-empty string, got ${JSON.stringify(o.binary)}`);
  let probe: UprobeProbe;
  try {
    probe = uretprobe(binary, "readline", {
      ...(o.pid !== undefined ? { pid: o.pid } : {}),
      ...(o.comm !== undefined ? { where: { comm: o.comm } } : {}),
      read: { line: { from: "ret", string: 128 } },
    });
  } catch (e) {
    if (e instanceof UnknownSymbolError) {
      throw new NotSupportedError("tools.bashreadline()", `${e.binary} has no readline symbol: a bash built against a shared libreadline keeps it there (binary: "libreadline"), and a stripped static one has none to probe`, { cause: e });
    }
    if (e instanceof BinaryNotFoundError) throw new NotSupportedError("tools.bashreadline()", `no ${JSON.stringify(binary)} to probe (${e.message})`, { cause: e });
    throw e;
  }
  const shape = (t: ColumnTable) => t.select(...BASHREADLINE.columns);
  return eventsTool<BashreadlineRow>(BASHREADLINE, probe, shape, (t) => bar(t, { x: "line", title: "commands typed", horizontal: true }));
}
