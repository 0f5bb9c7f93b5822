/* testFrames: the XDP program run on given frames with BPF_PROG_TEST_RUN (nothing
 * attached), one row per frame with the verdict. */
import { BpfObject } from "../../libbpf/object.js";
import { bpfObjectPath } from "../../paths.js";
import { requireTracingPrivileges } from "../../privileges.js";
import { InvalidArgumentError } from "../../errors.js";
import { Trace } from "../../engine/trace.js";
import { EVENT_SIZE, RunMode } from "./layout.js";
import type { XdpRule } from "./match.js";
import { TotalsReader } from "./totals.js";
import { sampleFields } from "./decode.js";
import { checkOptions, configureCommon } from "./program.js";
import { packetTable } from "./tables.js";
import type { XdpPacketStats, XdpPacketTable } from "./types.js";

const XDP_RETVALS = ["aborted", "drop", "pass", "tx", "redirect"];

/**
 * Runs the XDP program on frames with BPF_PROG_TEST_RUN (nothing is attached): one
 * row per frame, in order, with what the parser saw, the rule that matched and
 * `verdict` (what the program returned: "pass" or "drop").
 */
export async function testFrames(frames: readonly Uint8Array[], opts: { rules?: readonly XdpRule[]; dryRun?: boolean } = {}): Promise<XdpPacketTable> {
  requireTracingPrivileges("running the XDP program on test frames");
  const c = checkOptions({ rules: opts.rules, dryRun: opts.dryRun });
  for (const [i, f] of frames.entries()) {
    if (!(f instanceof Uint8Array) || f.length < 14) throw new InvalidArgumentError(`frame ${i}: test frames are Uint8Arrays of at least 14 bytes (an Ethernet header)`);
  }
  let bufferBytes = 4096;
  while (bufferBytes < frames.length * (EVENT_SIZE + 8)) bufferBytes *= 2;
  const obj = BpfObject.open(bpfObjectPath("xdp"), "xdp");
  let totals: TotalsReader;
  try {
    configureCommon(obj, RunMode.sample, c.rules.length, c.ruleBytes, Boolean(opts.dryRun), null);
    obj.map("events").setMaxEntries(bufferBytes);
    for (const m of ["agg0", "agg1"]) {
      obj.map(m).setKeySize(8);
      obj.map(m).setMaxEntries(1);
    }
    obj.load();
    totals = new TotalsReader(obj.map("xdp_totals"), c.rules);
  } catch (e) {
    obj.dispose();
    throw e;
  }
  const source = `xdp test run of ${frames.length} frames`;
  const prog = obj.program("xdp_packets");
  const trace = new Trace({ source, object: obj, eventSize: EVENT_SIZE, bufferBytes, fields: sampleFields(c.rules.map((r) => r.name)), attach: () => [] });
  const verdicts: string[] = [];
  try {
    for (const f of frames) verdicts.push(XDP_RETVALS[prog.testRun({ dataIn: f }).retval] ?? "unknown");
    const t = await trace.table();
    const stats: XdpPacketStats = { ...t.stats, ...totals.read(), interface: "(test run)", ifindex: 0, mode: "native", programId: 0, dryRun: Boolean(opts.dryRun), every: 1 };
    if (t.numRows() !== frames.length) throw new InvalidArgumentError(`test run: ${frames.length} frames gave ${t.numRows()} rows (${t.stats.lost} lost)`);
    return packetTable(t, stats, { verdict: verdicts });
  } finally {
    await trace.stop();
    totals.close();
  }
}
