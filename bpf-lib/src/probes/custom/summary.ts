/* What a notebook shows for a program: its programs and where they attach, its maps
 * with their kinds and types, its globals, and whether the compiler ran. */
import type { ObjectDescription } from "./describe.js";
import type { CompiledObject } from "./compile.js";

export interface ProgramSummary {
  name: string;
  compiled: CompiledObject;
  state: string;
  programs: { name: string; section: string }[];
  description: ObjectDescription;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function mapLines(s: ProgramSummary): [string, string, string][] {
  return s.description.maps.map((m) => {
    const types = m.kind === "ringbuf" ? (m.record ? `records: ${m.record.type} (${m.record.leaves.map((l) => l.name).join(", ")})` : "records: untyped (not declared with RINGBUF)")
      : m.kind === "hist" ? `log2 histogram by ${m.histKey?.type ?? "?"}`
      : `${m.key?.type ?? "?"} → ${m.value?.type ?? "?"}`;
    return [m.name, m.kind + (m.maxEntries !== undefined && m.kind !== "ringbuf" ? ` (${m.maxEntries})` : ""), types];
  });
}

export function summaryText(s: ProgramSummary): string {
  const head = `BPF program ${s.name}: ${s.state}; ${s.compiled.cached ? "compiled before (cache)" : `compiled in ${s.compiled.seconds.toFixed(2)} s`}`;
  const progs = s.programs.map((p) => `  ${p.name}  SEC("${p.section}")`);
  const maps = mapLines(s).map(([n, k, t]) => `  ${n}  ${k}  ${t}`);
  const globals = s.description.globals.map((g) => `  ${g.name}  ${g.layout.type}`);
  return [head, "programs:", ...progs, ...(maps.length ? ["maps:", ...maps] : []), ...(globals.length ? ["globals:", ...globals] : [])].join("\n");
}

export function summaryHtml(s: ProgramSummary): string {
  const row = (cells: string[]) => `<tr>${cells.map((c) => `<td style="text-align:left;font-family:monospace">${esc(c)}</td>`).join("")}</tr>`;
  const table = (title: string, rows: string[][]) => rows.length ? `<tr><th colspan="3" style="text-align:left">${title}</th></tr>${rows.map((r) => row(r.length === 3 ? r : [...r, ...Array(3 - r.length).fill("")])).join("")}` : "";
  return `<div><b>BPF program ${esc(s.name)}</b> · ${esc(s.state)} · ${s.compiled.cached ? "compiled before (cache)" : `compiled in ${s.compiled.seconds.toFixed(2)} s`}<table>`
    + table("programs", s.programs.map((p) => [p.name, `SEC("${p.section}")`]))
    + table("maps", mapLines(s))
    + table("globals (set before load)", s.description.globals.map((g) => [g.name, g.layout.type]))
    + "</table></div>";
}
