/* A live line for every trace a cell starts: events so far, lost, elapsed time,
 * updated in place about twice a second, then the final stats. */
import { activity, type Running as Trace } from "../bpf-lib/src/index.js";

export interface ProgressSink {
  show(id: string, html: string, text: string, update: boolean): void;
}

export const ICON_RUNNING = '<span style="color:#d62728">●</span>';
export const ICON_INTERRUPTED = '<span style="color:#666">■</span>';
export const ICON_DONE = '<span style="color:#2ca02c">✔</span>';

function fmt(n: number): string {
  return n.toLocaleString("en-US");
}

export function watchTraces(sink: ProgressSink, intervalMs = 500): () => void {
  let seq = 0;
  const timers = new Map<Trace, { id: string; timer: NodeJS.Timeout }>();
  const line = (t: Trace, done: boolean) => {
    const s = t.progressStats();
    const lost = s.lost > 0 ? ` · <b style="color:#c00">${fmt(s.lost)} lost</b>` : " · 0 lost";
    const text = done ? t.describe() : `${t.source}: ${fmt(s.received)} events, ${fmt(s.lost)} lost, ${s.seconds.toFixed(1)} s`;
    // ● ■ ✔ are in DejaVu Sans and Liberation, which Debian's Chromium falls back to;
    // ⏺ and ⏹ (U+23FA, U+23F9) are in neither and drew as empty boxes.
    const icon = done ? (s.stoppedBy === "interrupt" ? ICON_INTERRUPTED : ICON_DONE) : ICON_RUNNING;
    const html = `<div style="font-family:monospace;font-size:12px;color:#444">${icon} <b>${t.source}</b> · ${fmt(s.received)} events${lost} · ${s.seconds.toFixed(1)} s${done ? ` · stopped by ${s.stoppedBy}` : " · running"}</div>`;
    return { html, text };
  };
  const onStart = (t: Trace) => {
    const id = `bpfbook-trace-${process.pid}-${++seq}`;
    const first = line(t, false);
    sink.show(id, first.html, first.text, false);
    const timer = setInterval(() => {
      const l = line(t, false);
      sink.show(id, l.html, l.text, true);
    }, intervalMs);
    timer.unref();
    timers.set(t, { id, timer });
  };
  const onStop = (t: Trace) => {
    const e = timers.get(t);
    if (!e) return;
    clearInterval(e.timer);
    timers.delete(t);
    const l = line(t, true);
    sink.show(e.id, l.html, l.text, true);
  };
  activity.on("start", onStart);
  activity.on("stop", onStop);
  return () => {
    activity.off("start", onStart);
    activity.off("stop", onStop);
    for (const e of timers.values()) clearInterval(e.timer);
  };
}
