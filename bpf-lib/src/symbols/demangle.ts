/* C++ (Itanium ABI) and Rust (legacy) symbol names made readable, through binutils'
 * c++filt in one batch per call; names come back unchanged when it is not installed. */
import { execFileSync } from "node:child_process";

let missing = false;

/** Demangles every "_Z..." name (without parameter lists: `v8::internal::Heap::Scavenge`); returns a map of the ones that changed. */
export function demangle(names: Iterable<string>): Map<string, string> {
  const out = new Map<string, string>();
  const todo = [...new Set([...names].filter((n) => n.startsWith("_Z") && !n.includes("\n")))];
  if (todo.length === 0 || missing) return out;
  try {
    const res = execFileSync("c++filt", ["-p"], { input: todo.join("\n") + "\n", encoding: "utf8", maxBuffer: 64 << 20, stdio: ["pipe", "pipe", "ignore"] });
    const lines = res.split("\n");
    todo.forEach((n, i) => {
      const d = lines[i];
      if (d && d !== n) out.set(n, d);
    });
  } catch {
    missing = true;
  }
  return out;
}
