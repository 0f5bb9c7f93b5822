/* Folded-stack text, as flamegraph.pl and speedscope read it. */
import type { ColumnTable } from "arquero";

/**
 * Folded-stack text ("stack count" lines), as flamegraph.pl and speedscope read it;
 * prefixes the comm as the root frame when `comm` is set. `value`: the column counted
 * (default "count"; "ns" for offcpu tables).
 */
export function foldedText(t: ColumnTable, opts: { comm?: boolean; value?: string } = {}): string {
  const stacks = t.array("stack") as ArrayLike<string>, counts = t.array(opts.value ?? "count") as ArrayLike<number>;
  const comms = opts.comm ? (t.array("comm") as ArrayLike<string>) : null;
  let out = "";
  for (let i = 0; i < stacks.length; i++) out += `${comms ? comms[i] + ";" : ""}${stacks[i]} ${counts[i]}\n`;
  return out;
}
