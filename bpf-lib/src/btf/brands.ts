/* The marks the generated kernel struct types (generated/kernel-structs.d.ts) put on
 * pointers and arrays, so a typed path knows what its leaf reads as: a pointer member
 * is its pointee's interface (the path goes on through it) and, as a leaf, an address;
 * an array member is indexable and, as a leaf, its bytes. Types only: nothing here
 * exists at run time. */

export declare const ADDRESS: unique symbol;
export declare const ARRAY: unique symbol;
export declare const UNTYPED: unique symbol;

/** Marks a pointer: as a path's leaf it reads as the address (bigint). */
export interface KernelPointer {
  readonly [ADDRESS]: bigint;
}

/** A pointer to a kernel struct: follow it with `.member`, or end the path on it for the address. */
export type Ptr<T> = T & KernelPointer;

/** What a pointer to something other than a struct points to: index it (`fd[3]`, `argv[0]`). */
export interface Pointee<T> {
  readonly [index: number]: T;
}

/** Marks a fixed-size array: as a path's leaf it reads as its bytes (Uint8Array). */
export interface ArrayBytes {
  readonly [ARRAY]: Uint8Array;
}

/** A fixed-size array: index it (`[3]`), or end the path on it for its bytes. */
export interface KernelArray<T> extends ArrayBytes {
  readonly [index: number]: T;
}

/**
 * Any member of anything, when the types were generated without kernel BTF: checked only at
 * run time. It passes for a pointer so that any path may end anywhere.
 */
export interface Untyped extends KernelPointer {
  readonly [UNTYPED]: true;
  readonly [member: string]: Untyped;
  readonly [index: number]: Untyped;
}
