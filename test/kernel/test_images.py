"""Static images of charts in the notebook kernel (issue 13), through a real client
(Debian's jupyter_client): with images off (BPFBOOK_IMAGES=off, then `%bpfbook images off`)
a chart gets no id and no image and no Chromium starts; with `%bpfbook images auto` two
charts of a cell that also runs a trace each get an update_display_data with the whole
bundle plus a PNG and an SVG of that very chart (its size, drawn pixels, its title), sent
only once the cell (and its trace) ended; `%bpfbook images` says what it drew; an
interrupt leaves kernel and renderer running; after shutdown no Chromium the kernel
started is left. Run with /usr/bin/python3."""
import os
import struct
import time
import unittest
import zlib

from jupyter_client.manager import start_new_kernel

TIMEOUT = 60
PLOTLY = "application/vnd.plotly.v1+json"


def fig(kind, title, size=""):
    return f'plotlyFigure([{{ type: "{kind}", x: ["a", "b", "c"], y: [3, 1, 2] }}], {{ title: {{ text: "{title}" }}{size} }})'


def png_pixels(b64):
    """(width, height, pixels differing from the top-left one, distinct colours) of an 8-bit RGB(A) PNG."""
    import base64

    raw = base64.b64decode(b64)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n", "a PNG"
    pos, idat, head = 8, b"", None
    while pos < len(raw):
        n, kind = struct.unpack(">I4s", raw[pos:pos + 8])
        body = raw[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    width, height, depth, colour = head[0], head[1], head[2], head[3]
    assert depth == 8 and colour in (2, 6), f"8-bit RGB or RGBA, not depth {depth} colour type {colour}"
    bpp = 4 if colour == 6 else 3
    data, stride = zlib.decompress(idat), width * bpp
    prev, rows = bytearray(stride), []
    for y in range(height):
        f, line = data[y * (stride + 1)], bytearray(data[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    bg = rows[0][:bpp]
    px = [r[i:i + bpp] for r in rows for i in range(0, stride, bpp)]
    return width, height, sum(1 for p in px if p != bg), len(set(px))


def chromium_under(pid):
    """PIDs of Chromium processes descended from `pid` (other helpers' browsers are not ours)."""
    parent, cmd = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd[int(d)] = f.read().replace(b"\0", b" ").decode(errors="replace")
            parent[int(d)] = int(stat[stat.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            pass

    def under(p):
        while p > 1:
            p = parent.get(p, 0)
            if p == pid:
                return True
        return False

    return {p for p in parent if "chrom" in cmd.get(p, "") and under(p)}


class Run:
    """Executes code; every iopub message of that request until idle, with when it came."""

    def __init__(self, kc, code, images):
        self.msg_id = kc.execute(code)
        self.outputs = []
        while True:
            m = kc.get_iopub_msg(timeout=TIMEOUT)
            if m["parent_header"].get("msg_id") != self.msg_id:
                images.append(m)
                continue
            self.outputs.append(m)
            if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                break
        self.idle_at = time.monotonic()
        self.reply = kc.get_shell_msg(timeout=TIMEOUT)
        while self.reply["parent_header"].get("msg_id") != self.msg_id:
            self.reply = kc.get_shell_msg(timeout=TIMEOUT)

    def of(self, *types):
        return [m for m in self.outputs if m["msg_type"] in types]

    def text(self):
        return "".join(m["content"]["text"] for m in self.of("stream"))


def image_updates(kc, ids, seen, seconds):
    """update_display_data messages carrying image/png for `ids`, read for at most `seconds`."""
    got = {m["content"]["transient"]["display_id"]: (m, 0.0) for m in seen if m["msg_type"] == "update_display_data" and "image/png" in m["content"]["data"]}
    end = time.monotonic() + seconds
    while set(ids) - set(got) and time.monotonic() < end:
        try:
            m = kc.get_iopub_msg(timeout=max(0.1, end - time.monotonic()))
        except Exception:  # queue.Empty
            break
        if m["msg_type"] == "update_display_data" and "image/png" in m["content"]["data"]:
            got[m["content"]["transient"]["display_id"]] = (m, time.monotonic())
    return got


class KernelImages(unittest.TestCase):
    def test_images_off_then_auto_and_no_chromium_after_shutdown(self):
        km, kc = start_new_kernel(kernel_name="bpfbook", startup_timeout=TIMEOUT, env=dict(os.environ, BPFBOOK_IMAGES="off"))
        pid = km.provisioner.process.pid
        late, running = [], set()
        try:
            # off from the environment, then said again in a cell: no id on the chart, no image, no Chromium
            r = Run(kc, "%bpfbook images off\n" + fig("bar", "no image"), late)
            self.assertEqual(r.reply["content"]["status"], "ok", r.reply["content"])
            self.assertEqual(r.text(), "static images: off\n")
            (res,) = r.of("execute_result")
            self.assertEqual(res["content"].get("transient", {}), {})
            self.assertEqual(image_updates(kc, [], late, 2.5), {}, "no image while off")
            self.assertEqual(chromium_under(pid), set(), "no Chromium started while off")

            bad = Run(kc, "%bpfbook images maybe", late)
            self.assertEqual(bad.reply["content"]["ename"], "ImagesModeError")
            self.assertIn('"maybe" is not an images mode: use on, off or auto', bad.reply["content"]["evalue"])

            # auto finds Debian's Chromium; a chart shown, a trace, a chart from it as the cell's value
            r = Run(kc, "%bpfbook images auto\n"
                        'import { tracepoint, plot } from "bpfbook";\n'
                        "display(" + fig("bar", "first chart", ", width: 640, height: 320") + ");\n"
                        'const t = await tracepoint("raw_syscalls:sys_enter").count({ by: ["comm"] }).collect({ seconds: 1 });\n'
                        'plot.bar(t, { x: "comm", top: 5, title: "second chart" })', late)
            self.assertEqual(r.reply["content"]["status"], "ok", r.reply["content"])
            self.assertTrue(r.text().startswith("static images: on (auto: Chromium /"), r.text())
            (shown,) = [m for m in r.of("display_data") if PLOTLY in m["content"]["data"]]
            (result,) = r.of("execute_result")
            ids = [shown["content"]["transient"]["display_id"], result["content"]["transient"]["display_id"]]
            self.assertEqual([m for m in r.of("update_display_data") if "image/png" in m["content"]["data"]], [], "nothing drawn while the cell (and its trace) ran")
            got = image_updates(kc, ids, late, 180)  # Chromium starts under SCHED_IDLE: minutes on a loaded machine
            self.assertEqual(set(got), set(ids), "each chart got its image")
            for original, title, size in ((shown, "first chart", (640, 320)), (result, "second chart", (900, 450))):
                m, at = got[original["content"]["transient"]["display_id"]]
                data, meta = m["content"]["data"], m["content"]["metadata"]
                # the whole bundle again (the chart stays interactive), plus the images
                self.assertEqual(data[PLOTLY], original["content"]["data"][PLOTLY], title)
                self.assertEqual(data["text/plain"], original["content"]["data"]["text/plain"])
                self.assertEqual(m["parent_header"]["msg_id"], r.msg_id, "in the output of the cell that drew it")
                self.assertIn(f'<img src="data:image/png;base64,{data["image/png"]}"', data["text/html"], "the HTML's fallback is the PNG")
                self.assertIn(title, data["image/svg+xml"], "the SVG is of this chart")
                w, h, drawn, colours = png_pixels(data["image/png"])
                self.assertEqual((w, h), size, title)
                self.assertEqual(meta["image/png"], {"width": w, "height": h})
                self.assertTrue(drawn > 0.01 * w * h and colours >= 4, f"{title}: {drawn} of {w}×{h} pixels drawn, {colours} colours")
                print(f"\n# {title}: image {(at - r.idle_at) if at else 0:.1f} s after the cell ended" if at else "", end="")

            s = Run(kc, "%bpfbook images", late)
            self.assertRegex(s.text(), r"^static images: on \(auto: Chromium /\S+\); 2 charts drawn \(median [\d.]+ s each, after a [\d.]+ s start\)\n$")
            print(f"\n# {s.text().strip()}")
            running = chromium_under(pid)
            self.assertNotEqual(running, set(), "the renderer is the kernel's")

            # an interrupt is the kernel's (Playwright's own SIGINT handler would have ended the process): the renderer stays
            mid = kc.execute("await new Promise(() => {})")
            time.sleep(1)
            km.interrupt_kernel()
            reply = kc.get_shell_msg(timeout=TIMEOUT)
            while reply["parent_header"].get("msg_id") != mid:
                reply = kc.get_shell_msg(timeout=TIMEOUT)
            self.assertEqual(reply["content"].get("ename"), "KeyboardInterrupt")
            after = Run(kc, "1 + 1", late)
            self.assertEqual([m["content"]["data"]["text/plain"] for m in after.of("execute_result")], ["2"])
            self.assertEqual(chromium_under(pid), running, "the same renderer")
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=False)
        left = chromium_under(pid) | (running & chromium_under(1))
        self.assertEqual(left, set(), "no Chromium left after shutdown")
        self.assertFalse(km.is_alive())


if __name__ == "__main__":
    unittest.main()
