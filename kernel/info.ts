/* What the kernel says about itself (kernel_info_reply). */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** The record/replay mode (bpfbook run --record / --replay), so a client's banner says it. */
function modeNote(): string {
  if (process.env.BPFBOOK_REPLAY) return ` — REPLAY of ${process.env.BPFBOOK_REPLAY}, not live data`;
  if (process.env.BPFBOOK_RECORD) return ` — RECORDING to ${process.env.BPFBOOK_RECORD}`;
  return "";
}

function version(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

export const KERNEL_NAME = "bpfbook";
export const DISPLAY_NAME = "TypeScript (eBPF)";

export function kernelInfo(): Record<string, unknown> {
  return {
    status: "ok",
    protocol_version: "5.3",
    implementation: "bpfbook",
    implementation_version: version("bpfbook"),
    language_info: {
      name: "typescript",
      version: version("typescript"),
      mimetype: "text/typescript",
      file_extension: ".ts",
      codemirror_mode: { name: "javascript", typescript: true },
      pygments_lexer: "typescript",
    },
    banner: `bpfbook ${version("bpfbook")}: TypeScript cells, eBPF tracing into Arquero tables (Node ${process.version})${modeNote()}`,
    help_links: [],
    debugger: false,
  };
}
