/* Errors no cell awaited: a timer's callback that throws, a promise rejected with
 * nobody listening, an exception from a callback a library calls later. Node's
 * default is to end the process, which for a notebook kernel means losing every
 * variable (and, before the sockets close cleanly, an abort inside zeromq's N-API
 * teardown). Like ipykernel and Deno's kernel, the kernel reports them and goes on. */

export type UncaughtKind = "uncaughtException" | "unhandledRejection";

/** Routes both kinds to `report`, which must not throw. Returns the function that stops it. */
export function catchUncaught(report: (kind: UncaughtKind, error: unknown) => void): () => void {
  const onException = (e: unknown) => report("uncaughtException", e);
  const onRejection = (e: unknown) => report("unhandledRejection", e);
  process.on("uncaughtException", onException);
  process.on("unhandledRejection", onRejection);
  return () => {
    process.off("uncaughtException", onException);
    process.off("unhandledRejection", onRejection);
  };
}
