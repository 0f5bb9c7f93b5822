/*
 * The object that holds every cell's top-level names. Converted cells write `exports.x = x` and, for imported
 * names, `Object.defineProperty(exports, "x", { get })`; a getter-only property could never be re-declared by a
 * later cell, so definitions are stored as plain values (as tslab's executor does).
 */
export type CellExports = Record<string, unknown>;

export function createExports(): { exports: CellExports; clear(): void } {
  const values: CellExports = {};
  const exports = new Proxy(values, {
    // Names the host declares in the prelude (display, input, ...) live on globalThis;
    // the converter still reads them as `exports.name`.
    get(target, name, receiver) {
      return Reflect.has(target, name) ? Reflect.get(target, name, receiver) : (globalThis as Record<string | symbol, unknown>)[name];
    },
    defineProperty(target, name, attributes) {
      if (name === "__esModule") return true;
      const value: unknown = attributes.get ? attributes.get() : attributes.value;
      Reflect.set(target, name, value);
      return true;
    },
  });
  const clear = () => {
    for (const name of Reflect.ownKeys(values)) Reflect.deleteProperty(values, name);
  };
  return { exports, clear };
}
