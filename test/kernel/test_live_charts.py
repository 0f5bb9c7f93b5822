"""Live charts through a real client (nbclient, as `bpfbook run` and Jupyter apply
update_display_data): a live chart's final state is a complete output, carrying plotly.js
when it was the chart that brought it; a cell ending with the same chart as its live
chart shows one chart, not two; other charts are left alone. The kernel's own outputs,
before `bpfbook run` publishes anything. Run with /usr/bin/python3."""
import json
import unittest

import nbformat
from nbclient import NotebookClient

PLOTLY = "application/vnd.plotly.v1+json"
LOADER = '<script type="text/javascript" data-bpfbook="plotly.js">'


def fig(kind, y, title):
    return f'plotlyFigure([{{ type: "{kind}", x: ["a", "b"], y: [{y}, 1] }}], {{ title: {{ text: "{title}" }}, yaxis: {{ title: {{ text: "count" }} }} }})'


CELLS = [
    # 1: the session's first chart is live (it carries plotly.js), updated, then replaced by the final chart
    "const h = display(" + fig("bar", 1, "live") + ");\n"
    "for (let i = 2; i <= 4; i++) { await new Promise((r) => setTimeout(r, 30)); h.update(" + fig("bar", "i", "live") + "); }\n"
    + fig("bar", 9, "final"),
    # 2: a live chart of another kind stays (its final state), the bar chart is the result
    "const g = display(" + fig("scatter", 1, "live scatter") + ");\n"
    "g.update(" + fig("scatter", 2, "live scatter") + ");\n"
    + fig("bar", 3, "bars"),
    # 3: a chart shown once (never updated) is not live: both stay
    "display(" + fig("bar", 4, "shown") + ");\n" + fig("bar", 5, "result"),
    # 4: a later cell updates cell 1's display: it must still carry plotly.js afterwards
    "h.update(" + fig("bar", 42, "updated later") + ");\n\"done\"",
    # 5: a live trace with its chart, as notebooks do it (progress line + live chart + final chart)
    'import { tracepoint, plot } from "bpfbook";\n'
    'const t = await tracepoint("raw_syscalls:sys_enter").count({ by: ["comm"] }).collect({ seconds: 1, interval: 0.25,\n'
    '  live: (t) => plot.bar(t, { x: "comm", top: 5, title: "syscalls by comm (live)" }) });\n'
    'plot.bar(t, { x: "comm", top: 5, title: "syscalls by comm" })',
    # 6: a live latency heatmap over intervals: one chart at the end, drawn against seconds
    'import { syscalls } from "bpfbook";\n'
    'const lat = await syscalls.latency().collect({ seconds: 1, interval: 0.25, live: (t) => plot.heatmap(t, { title: "latency (live)" }) });\n'
    'plot.heatmap(lat, { title: "latency" })',
]


def html(o):
    h = o["data"].get("text/html", "")
    return "".join(h) if isinstance(h, list) else h


def charts(cell):
    return [o for o in cell.outputs if o.output_type in ("display_data", "execute_result") and PLOTLY in o.get("data", {})]


def title(o):
    return o["data"][PLOTLY]["layout"]["title"]["text"]


class LiveCharts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        nb = nbformat.v4.new_notebook()
        nb.metadata = {"kernelspec": {"name": "bpfbook", "display_name": "TypeScript (eBPF)", "language": "typescript"}}
        nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
        NotebookClient(nb, kernel_name="bpfbook", timeout=120, allow_errors=False).execute()
        cls.nb = nb

    def test_live_chart_replaced_by_the_final_one_and_self_contained(self):
        c = self.nb.cells[0]
        self.assertEqual(len(c.outputs), 1, json.dumps([o.output_type for o in c.outputs]))
        o = c.outputs[0]
        self.assertEqual(o.output_type, "display_data")
        # cell 4 updated it later; it still carries plotly.js (the session's only copy)
        self.assertEqual(title(o), "updated later")
        self.assertEqual(o["data"][PLOTLY]["data"][0]["y"], [42, 1])
        self.assertEqual(html(o).count(LOADER), 1)

    def test_other_kinds_and_unlive_charts_stay(self):
        two = self.nb.cells[1].outputs
        self.assertEqual([o.output_type for o in two], ["display_data", "execute_result"])
        self.assertEqual([title(o) for o in two], ["live scatter", "bars"])
        self.assertEqual(two[0]["data"][PLOTLY]["data"][0]["y"], [2, 1], "the live chart's final state")
        three = self.nb.cells[2].outputs
        self.assertEqual([(o.output_type, title(o)) for o in three], [("display_data", "shown"), ("execute_result", "result")])

    def test_plotly_js_once_in_the_notebook(self):
        copies = [(i + 1, html(o).count(LOADER)) for i, c in enumerate(self.nb.cells) for o in charts(c)]
        self.assertEqual(sum(n for _, n in copies), 1, copies)
        self.assertEqual(copies[0], (1, 1))

    def test_live_trace_cell_shows_progress_and_one_final_chart(self):
        c = self.nb.cells[4]
        ch = charts(c)
        self.assertEqual(len(ch), 1, json.dumps([(o.output_type, list(o.get("data", {}))) for o in c.outputs]))
        self.assertEqual(title(ch[0]), "syscalls by comm")
        progress = [o for o in c.outputs if PLOTLY not in o.get("data", {})]
        self.assertEqual(len(progress), 1)
        self.assertIn("raw_syscalls:sys_enter", progress[0]["data"]["text/plain"])

    def test_live_heatmap_against_seconds_with_glyphs_that_render(self):
        c = self.nb.cells[5]
        ch = charts(c)
        self.assertEqual(len(ch), 1, json.dumps([(o.output_type, list(o.get("data", {}))) for o in c.outputs]))
        fig = ch[0]["data"][PLOTLY]
        self.assertEqual(fig["layout"]["title"]["text"], "latency")
        self.assertEqual(fig["layout"]["xaxis"]["title"]["text"], "time (s)")
        xs = fig["data"][0]["x"]
        self.assertTrue(0.2 < xs[0] < 0.6 and xs[-1] <= 1.5, xs)
        progress = [html(o) for o in c.outputs if PLOTLY not in o.get("data", {})]
        self.assertEqual(len(progress), 1)
        # U+23FA/U+23F9 are in no font Debian's Chromium has; the final line is a check mark
        self.assertIn("\u2714", progress[0])
        self.assertFalse(any(g in progress[0] for g in "\u23fa\u23f9"), progress[0])

    def test_chart_html_shows_a_hint_without_scripts(self):
        o = charts(self.nb.cells[2])[0]
        self.assertIn('<div class="bpfbook-plot-fallback"><p class="bpfbook-plot-hint">Chart not drawn', html(o))


if __name__ == "__main__":
    unittest.main()
