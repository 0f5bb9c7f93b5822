/* BPF C in the notebook, typed before the cell is checked. A `%%bpf name` cell (all C)
 * becomes a TypeScript cell declaring `name`; in a TypeScript cell, each bpf.c`...`
 * without ${} and each bpf.file("...") with a literal path is compiled first (cached
 * by content, so running the cell compiles nothing again) and given the type of its
 * object's BTF. Lines stay where they were, so errors keep the cell's line numbers.
 * When the C does not compile, the call is left untyped: running it raises the
 * compiler's error at the cell's line, as any other error of the cell. */
import { bpfTypeText, bpfFileTypeText } from "../../bpf-lib/src/index.js";

const MAGIC = /^%%bpf(?:[ \t]+([A-Za-z_$][\w$]*))?[ \t]*(?:\r?\n|$)/;
const TEMPLATE = /\bbpf\.c`([^`]*)`/g;
const FILE = /\bbpf\.file\((\s*)("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')/g;

async function typed(make: () => Promise<string>): Promise<string | null> {
  try {
    return await make();
  } catch {
    return null; // the run reports it, at the cell's line
  }
}

/** Whether a cell is a `%%bpf` cell. */
export function isBpfCell(code: string): boolean {
  return MAGIC.test(code);
}

/** A `%%bpf name` cell as the TypeScript that compiles, loads lazily and names it. */
export async function bpfCellSource(code: string): Promise<string> {
  const m = MAGIC.exec(code)!;
  const name = m[1] ?? "prog";
  const c = code.slice(m[0].length);
  const options = `{ name: ${JSON.stringify(name)}, sourceName: ${JSON.stringify(name)}, firstLine: 2 }`;
  const type = await typed(() => bpfTypeText(c, { sourceName: name, firstLine: 2 }));
  // one line: the cell's lines are C, and a TypeScript error here is ours, not the user's
  return `import { bpf as bpfbook$bpf } from "bpfbook"; const ${name} = await bpfbook$bpf.compile${type ? `<${type}>` : ""}(${JSON.stringify(c)}, ${options}); ${name};`;
}

/** A TypeScript cell with its bpf.c templates and bpf.file calls typed. */
export async function typeBpfCalls(code: string): Promise<string> {
  if (!code.includes("bpf.c`") && !code.includes("bpf.file(")) return code;
  let out = "";
  let last = 0;
  for (const m of code.matchAll(TEMPLATE)) {
    const body = m[1]!;
    if (body.includes("${")) continue;
    const at = m.index!;
    const firstLine = code.slice(0, at).split("\n").length;
    const type = await typed(() => bpfTypeText(body, { sourceName: "cell", firstLine }));
    out += code.slice(last, at) + `bpf.compile${type ? `<${type}>` : ""}(String.raw\`${body}\`, { sourceName: "cell", firstLine: ${firstLine} })`;
    last = at + m[0].length;
  }
  code = out + code.slice(last);
  out = "";
  last = 0;
  for (const m of code.matchAll(FILE)) {
    const at = m.index!;
    let path: string;
    try {
      path = m[2]!.startsWith("'") ? m[2]!.slice(1, -1) : (JSON.parse(m[2]!) as string);
    } catch {
      continue;
    }
    const type = await typed(() => bpfFileTypeText(path));
    if (!type) continue;
    out += code.slice(last, at) + `bpf.file<${type}>(${m[1]}${m[2]}`;
    last = at + m[0].length;
  }
  return out + code.slice(last);
}
