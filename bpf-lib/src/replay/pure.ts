/* The exports that only compute on what they are given (charts, percentiles, names of
 * numbers, file formats): they run for real when a notebook is recorded or replayed,
 * as the cells' own analysis does. Everything else reaches the machine, so its calls
 * are recorded and replayed. */
const PURE = new Set([
  "plot", "percentiles", "percentileFromBuckets", "compare", "withErrno", "syscallName", "syscallNumber",
  "withTime", "formatStats", "saveTrace", "loadTrace", "traceToArrow", "traceFromArrow", "foldedText",
  "formatAddress", "parseAddress", "protocolName", "serviceName", "buildFrame", "testFrames", "ruleTable", "packetColumns",
  "activity", "stopAll", "partialResults", "disposeAll", "liveCount", "setLibbpfLogLevel", "formatPrototype",
  "kernelFunctionColumnName", "kfuncColumnName", "XDP_KEYS", "STANDARD_COLUMNS",
  "exportPprof", "exportPerfetto", "writeParquet", "parquetBytes", "readParquet", "writeCsv", "csvText", "exportOtlp",
  "ReplaySession", "readRecording", "recordingPathOf", "machineFacts",
]);

/** Whether an export (a dotted path from the package's root: "plot.bar", "tools.opensnoop") runs for real. */
export function isPure(path: string): boolean {
  const root = path.split(".")[0]!;
  return PURE.has(root);
}
