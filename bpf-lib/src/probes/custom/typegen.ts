/* The TypeScript type of a user's program, from its compiled object's BTF: what the
 * notebook writes into a cell before type-checking it, so the cells after it are
 * checked against the program's rings, maps, histograms and globals. Opening an
 * object touches no kernel: this needs no privileges. */
import { BpfObject } from "../../libbpf/object.js";
import { BtfBlob } from "../../btf/blob.js";
import { compileBpf, compileBpfFile, type CompileOptions } from "./compile.js";
import { describeObject } from "./describe.js";
import { programTypeText } from "./ts-types.js";

function typeTextOf(path: string): string {
  const obj = BpfObject.open(path, "typegen");
  try {
    const btf = obj.btfBytes();
    return btf ? programTypeText(describeObject(BtfBlob.fromBytes(btf, path))) : "{ events: {}; maps: {}; hists: {}; globals: {} }";
  } finally {
    obj.dispose();
  }
}

/** Compiles (or finds in the cache) BPF C and returns its program type as one line of TypeScript. */
export async function bpfTypeText(code: string, options: CompileOptions = {}): Promise<string> {
  return typeTextOf((await compileBpf(code, { ...options, forTypes: true })).path);
}

/** The same for a `.bpf.c` file. */
export async function bpfFileTypeText(path: string): Promise<string> {
  return typeTextOf((await compileBpfFile(path, { forTypes: true })).path);
}
