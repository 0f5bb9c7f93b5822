/* Whether the notebook kernel adds static images to charts: `%bpfbook images on|off|auto`
 * in a cell, BPFBOOK_IMAGES in the environment (CI, `bpfbook run`, which renders
 * afterwards itself). "auto", the default, means on when a Chromium is found. */

export type ImagesMode = "on" | "off" | "auto";

const MODES: readonly ImagesMode[] = ["on", "off", "auto"];

/** The environment variable that sets the kernel's starting mode. */
export const IMAGES_ENV = "BPFBOOK_IMAGES";

/** A mode that is not one of on, off, auto (in the magic or the environment). */
export class ImagesModeError extends Error {
  override readonly name = "ImagesModeError";
  constructor(where: string, value: string) {
    super(`${where}: ${JSON.stringify(value)} is not an images mode: use on, off or auto (auto: on when a Chromium is found)`);
  }
}

export function parseImagesMode(value: string, where: string): ImagesMode {
  const v = value.trim().toLowerCase();
  if ((MODES as readonly string[]).includes(v)) return v as ImagesMode;
  throw new ImagesModeError(where, value);
}

/** The mode BPFBOOK_IMAGES asks for (auto when unset); a bad value is an error naming the variable. */
export function imagesModeFromEnv(env: NodeJS.ProcessEnv = process.env): ImagesMode {
  const v = env[IMAGES_ENV];
  return v === undefined || v === "" ? "auto" : parseImagesMode(v, IMAGES_ENV);
}

let mode: ImagesMode = "auto";
let modeError: ImagesModeError | undefined;
try {
  mode = imagesModeFromEnv();
} catch (e) {
  // reported once by the kernel (the first chart's warning), not thrown at import
  modeError = e as ImagesModeError;
  mode = "off";
}
const listeners = new Set<(m: ImagesMode) => void>();

export function imagesMode(): ImagesMode {
  return mode;
}

/** Why the environment's mode was refused, if it was. */
export function imagesModeEnvError(): ImagesModeError | undefined {
  return modeError;
}

export function setImagesMode(m: ImagesMode): void {
  mode = m;
  for (const l of listeners) l(m);
}

export function onImagesMode(l: (m: ImagesMode) => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

let describe: () => string = () => `static images: ${mode}`;

/** The kernel's line about static images (mode, renderer, what it rendered), for `%bpfbook images`. */
export function imagesStatus(): string {
  return describe();
}

export function setImagesStatus(fn: () => string): void {
  describe = fn;
}

const MAGIC = /^%bpfbook[ \t]+images\b[ \t]*(\S*)[ \t]*$/;

/**
 * `%bpfbook images [on|off|auto]` lines among the cell's first lines (before its code):
 * each sets the mode and becomes a blank line, so line numbers hold. Returns the cell and
 * the modes said, in order ("" for a bare `%bpfbook images`, which only asks), or null
 * when there was no such line. A mode other than on/off/auto throws ImagesModeError.
 */
export function takeImagesMagic(code: string): { rest: string; said: string[] } | null {
  const lines = code.split("\n");
  const said: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    if (line.trim() === "") continue;
    const m = MAGIC.exec(line);
    if (!m) {
      if (/^%bpfbook\b/.test(line)) continue; // another %bpfbook line (record, replay): its own handler's
      break;
    }
    if (m[1]) setImagesMode(parseImagesMode(m[1], "%bpfbook images"));
    said.push(m[1] ?? "");
    lines[i] = "";
  }
  return said.length ? { rest: lines.join("\n"), said } : null;
}
