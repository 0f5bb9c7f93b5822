/* The project's own TypeScript (5.9), loaded on first use: the kernel should not pay for it at start-up. */
import { createRequire } from "node:module";

export type TypeScript = typeof import("typescript");

let loaded: TypeScript | undefined;

export function typescript(): TypeScript {
  loaded ??= createRequire(import.meta.url)("typescript") as TypeScript;
  return loaded;
}
