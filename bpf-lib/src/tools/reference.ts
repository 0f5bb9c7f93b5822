/* The reference part of docs/tools.md, written from the catalog, so the docs list every
 * tool with the options and columns it really has (test/tools.test.ts compares them). */
import { TOOLS } from "./registry.js";
import type { ToolInfo } from "./tool-info.js";

export const BEGIN = "<!-- tools reference: generated from bpf-lib/src/tools/catalog.ts by `npm run docs:tools`; do not edit by hand -->";
export const END = "<!-- end of tools reference -->";

const esc = (s: string) => s.replace(/\|/g, "\\|");

function section(t: ToolInfo): string {
  const own = t.options.filter((o) => o.name !== "pid" && o.name !== "comm");
  const call = `tools.${t.name}({ pid?, comm?${own.map((o) => `, ${o.name}?`).join("")} })`;
  const flags = t.options.map((o) => `--${o.name}${o.type === "boolean" ? "" : o.type === "number" ? " N" : o.type === "list" ? " A,B" : " X"}`).join("] [");
  return [
    `## ${t.name}`,
    "",
    `${t.summary[0]!.toUpperCase()}${t.summary.slice(1)}. Like ${t.counterpart}.`,
    "",
    `- notebook: \`${call}\``,
    `- shell: \`bpfbook ${t.name} [${flags}] [--seconds N] [--json | --csv]\``,
    `- columns: ${t.columns.map((c) => `\`${c}\``).join(", ")}`,
    ...(own.length ? [`- options: ${own.map((o) => `\`${o.name}\` (${o.help})`).join("; ")}`] : []),
    `- built on: ${t.builtOn}`,
  ].join("\n");
}

/** The generated reference: a table of every tool, then a section each. */
export function toolsReference(): string {
  const rows = TOOLS.map(({ info: t }) => `| [${t.name}](#${t.name}) | ${esc(t.summary)} | ${esc(t.counterpart)} |`);
  return [BEGIN, "", "| tool | answers | like |", "|---|---|---|", ...rows, "", ...TOOLS.map(({ info }) => section(info) + "\n"), END].join("\n");
}

/** `text` with its reference part replaced by the current one. */
export function withReference(text: string): string {
  const a = text.indexOf(BEGIN), b = text.indexOf(END);
  if (a < 0 || b < a) return `${text.trimEnd()}\n\n${toolsReference()}\n`;
  return text.slice(0, a) + toolsReference() + text.slice(b + END.length);
}
