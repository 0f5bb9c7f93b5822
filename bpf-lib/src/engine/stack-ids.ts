/* How a stack id column is recognized across the engine: derived stack ids (derive.h's
 * DER_KSTACK / DER_USTACK) are s32 fields whose type names the stack kind, so key
 * planning, decoders and result tables tell them from other integers. */

/** The `type` of a derived kernel stack id field. */
export const KSTACK_TYPE = "kernel stack id";
/** The `type` of a derived user stack id field. */
export const USTACK_TYPE = "user stack id";

/** "kernel" or "user" for a stack id field's type, else undefined. */
export function stackKind(type: string): "kernel" | "user" | undefined {
  return type === KSTACK_TYPE ? "kernel" : type === USTACK_TYPE ? "user" : undefined;
}

/** Stack map entries when a probe asks for stacks and says nothing (profile()'s default too). */
export const DEFAULT_STACK_ENTRIES = 16384;
