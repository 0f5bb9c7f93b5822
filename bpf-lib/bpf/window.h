/* Reading integers out of a program's window (the copied record or arguments, then
 * derived and carried fields: MAX_SPAN bytes), at any offset. Needs event.h first. */
#ifndef BPFBOOK_WINDOW_H
#define BPFBOOK_WINDOW_H

/* An integer of 1, 2, 4 or 8 bytes at any byte offset of the window, sign- or
 * zero-extended. Byte by byte: fields of packed records sit at any offset, and
 * rounding the offset (as the first version did) reads the neighbouring field. */
static __always_inline __u64 window_uint(const __u8 *win, __u32 off, __u32 size)
{
	__u64 raw = 0;
	for (int j = 0; j < 8; j++) {
		if (j >= size)
			break;
		raw |= (__u64)win[(off + j) & (MAX_SPAN - 1)] << (8 * j);
	}
	return raw;
}

static __always_inline __s64 window_int(const __u8 *win, __u32 off, __u32 size, __u32 is_signed)
{
	__u64 raw = window_uint(win, off, size);
	if (is_signed && size < 8) {
		__u32 shift = 64 - 8 * (size & 7);
		return (__s64)(raw << shift) >> shift;
	}
	return (__s64)raw;
}

#endif
