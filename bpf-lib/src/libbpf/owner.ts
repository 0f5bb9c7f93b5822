/* What a program or map needs of the object it belongs to. BpfObject implements it,
 * so program.ts and map.ts never import object.ts (which creates them). */
import type { ObjectHandle } from "../ffi/libbpf.js";

export interface ObjectOwner {
  readonly name: string;
  /** Settings that shape loading (autoload, sizes, reuse) are refused once loaded. */
  readonly loaded: boolean;
  /** The libbpf handle; throws DisposedError once the object is disposed. */
  handle(): ObjectHandle;
}
