/* C strings out of event bytes. Most are short ASCII (comm, paths), for which
 * String.fromCharCode over the bytes beats TextDecoder by a wide margin. */
const utf8 = new TextDecoder("utf-8");

/** The NUL-terminated string in u8[start, start+max). */
export function cString(u8: Uint8Array, start: number, max: number): string {
  let end = start;
  const limit = start + max;
  let ascii = true;
  while (end < limit) {
    const b = u8[end];
    if (b === 0) break;
    if (b > 0x7f) ascii = false;
    end++;
  }
  if (end === start) return "";
  if (ascii && end - start <= 256) return String.fromCharCode.apply(null, u8.subarray(start, end) as unknown as number[]);
  return utf8.decode(u8.subarray(start, end));
}
