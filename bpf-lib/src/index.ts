/* bpfbook: trace the running Linux kernel from TypeScript, into Arquero tables.
 * This file only re-exports the public API, grouped as the library is laid out. */

// Tracepoints
export { tracepoint, anyTracepoint, TracepointProbe } from "./probes/tracepoint/probe.js";
export type { TracepointOptions, TracepointRow, TracepointPlan, StandardRow, Where, FieldName, KeyName } from "./probes/tracepoint/probe.js";
export type { TracepointName, TracepointFields } from "./generated/tracepoints.js";
export { listTracepoints, readFormat } from "./tracefs/catalog.js";
export type { TracepointFormat, TracepointField, FieldKind } from "./tracefs/format.js";
// Tracepoints: several at once (a list or a wildcard), one table with a `probe` column
export { tracepoints, TracepointGroup } from "./probes/tracepoint/group.js";
export type { TracepointGroupOptions, TracepointGroupPlan } from "./probes/tracepoint/group.js";
export type { TracepointGroupRow, GroupWhere, GroupKeyName, GroupNames, CommonField, PatternTemplate } from "./probes/tracepoint/group-types.js";
export { AggregationGroup } from "./engine/aggregation-group.js";
export { InvalidPatternError, NoMatchingTracepointError, TooManyTracepointsError, UncommonFieldError } from "./probes/tracepoint/errors.js";

// Latency and the built-in presets (syscalls, scheduler, block I/O)
export { latency } from "./probes/latency.js";
export type { LatencyOptions } from "./probes/latency.js";
export { pair, Pair } from "./probes/pair.js";
export type { PairOptions, PairRow, StartTaskColumn } from "./probes/pair.js";
export { syscalls, sched, block } from "./probes/presets.js";

// The tools collection: the classic bcc/bpftrace tools as typed functions (and `bpfbook <tool>` in the shell)
export * as tools from "./tools/index.js";
export type { Tool, EventsTool, AggregationTool, ProfileTool, ToolInfo, ToolOption, ToolFilter } from "./tools/index.js";

// Kernel functions: kprobe()/kretprobe(), attached as fentry/fexit where the kernel allows
export { kprobe, kretprobe, kernelFunctionLatency, KernelFunctionProbe, KernelFunctionAggregation } from "./probes/fentry/index.js";
export { kernelFunctionPrototype, kernelFunctionColumnName, KernelBtf, formatPrototype } from "./probes/fentry/index.js";
export { kernelFunctions, traceability, kernelFunctionSupport } from "./probes/fentry/index.js";
export { UnknownKernelFunctionError, UntraceableKernelFunctionError, UnknownArgumentError } from "./probes/fentry/index.js";
export type {
  KprobeOptions, KretprobeOptions, KprobeRow, KretprobeRow, StringSource,
  KernelFunctionWhere, KernelFunctionPlan, KernelFunctionAggregateOptions,
  KernelFunctionArgName, KernelFunctionStringArg, KernelFunctionKeyName, KernelFunctionValueName, KernelFunctionColumn,
  KernelFunctionPrototype, KernelFunctionArg, KernelFunctionValueKind, Traceability, KernelFunctionSupport,
  KernelFunctionSignatures, KernelFunctionArgs, KernelFunctionReturn, KernelFunctionStrings, IsKernelFunction,
} from "./probes/fentry/index.js";
// Kernel functions: the names before the rename (deprecated)
export { kfuncLatency, kfuncPrototype, kfuncColumnName, kfuncSupport, KfuncAggregation } from "./probes/fentry/index.js";
export type {
  KfuncWhere, KfuncPlan, KfuncAggregateOptions, KfuncArgName, KfuncStringArg, KfuncKeyName, KfuncValueName, KfuncColumn,
  KfuncPrototype, KfuncArg, KfuncValueKind, KfuncSupport,
} from "./probes/fentry/index.js";

// Uprobes
export { uprobe, uretprobe, UprobeProbe } from "./probes/uprobe/probe.js";
export { UprobeAggregation } from "./probes/uprobe/aggregate.js";
export type { UprobeOptions, UprobeWhere, UprobeRow, UprobePlan, UprobeKey, UprobeAggregateOptions, IntType, ArgName } from "./probes/uprobe/types.js";
export type { UprobeRowOf } from "./probes/uprobe/types.js";
export { NoMatchingSymbolError, TooManySymbolsError } from "./probes/uprobe/match.js";

// XDP
export { xdp, XdpProbe, XdpAggregation, XdpRun, XdpSample, XdpSampleRun, testFrames, buildFrame, ruleTable, XDP_KEYS } from "./probes/xdp/index.js";
export { resolveInterface, listInterfaces, xdpPrograms, UnknownInterfaceError, XdpBusyError } from "./probes/xdp/index.js";
export { formatAddress, parseAddress, protocolName, serviceName } from "./probes/xdp/index.js";
export type {
  XdpOptions, XdpCountOptions, XdpHistOptions, XdpSampleOptions, XdpInfo, XdpStats, XdpTable, XdpPacketStats, XdpPacketTable,
  XdpTotals, RuleInfo, RuleCount, PacketMatch, XdpRule, PortSpec, XdpKey, XdpMode, XdpAttachedMode, AttachedProgram, NetworkInterface, FrameSpec,
} from "./probes/xdp/index.js";

// Your own BPF C: bpf.c`...` in a cell (or %%bpf), compiled against this kernel, typed from its BTF
export { bpf, BpfCProgram, CustomEvents, CustomMap, compileBpf, compileBpfFile, findClang, vmlinuxHeader, bpfTypeText, bpfFileTypeText } from "./probes/custom/index.js";
export { CompileError, CompilerMissingError, CustomVerifierError } from "./probes/custom/index.js";
export type { CustomTypes, BpfCOptions, AttachOptions, EventsOptions, RunOptions, RowArg, MapTableOptions, CompileOptions, CompiledObject, Diagnostic } from "./probes/custom/index.js";

// Profiling: CPU samples and off-CPU time per stack
export { profile, startProfile, offcpu, startOffcpu } from "./probes/profile/profile.js";
export { ProfileRun } from "./probes/profile/run.js";
export { foldedText } from "./probes/profile/folded.js";
export type { ProfileOptions, OffcpuOptions, ProfileStats, ProfileTable } from "./probes/profile/types.js";
// Profiling: kernel state read at each sample (the run-queue length)
export { sample, Sampler } from "./probes/profile/sample.js";
export { SampleAggregation } from "./probes/profile/sample-aggregate.js";
export { runqueueLength } from "./probes/profile/runqueue.js";
export type { SampleOptions, SampleAggregateOptions, SampleStandardKey, RunqueueLengthOptions } from "./probes/profile/sample-types.js";

// The engine: event streams
export { Trace } from "./engine/trace.js";
export type { CollectOptions, StopOptions, Progress } from "./engine/trace.js";
export type { StreamOptions } from "./engine/consume.js";
export type { TraceStats } from "./engine/stats.js";
export { withTime, formatStats } from "./engine/table.js";
export type { TraceTable } from "./engine/table.js";
export type { TypedTable, RowOf, RowFunction } from "./engine/typed-table.js";
export type { FieldFilter, Comparison } from "./engine/filter.js";
export { saveTrace, loadTrace, traceToArrow, traceFromArrow } from "./engine/persist.js";

// The engine: aggregations
export { Aggregation } from "./engine/aggregation.js";
export type { AggregateOptions } from "./engine/aggregation.js";
export { AggregationRun } from "./engine/aggregation-run.js";
export type { AggCollectOptions, AggStats, AggTable, HistSpec, AggShape, RunSetup } from "./engine/aggregation-run.js";

// The engine: what is running, and stopping it
export { activity, stopAll, partialResults } from "./engine/running.js";
export type { Running, RunningStats, StoppedBy } from "./engine/running.js";
export { disposeAll, liveCount } from "./lifecycle.js";

// The fleet: the same probes on many hosts (ssh, kubectl exec, local agents), one merged table with a `host` column
export { fleet, FleetRun, PLAN_VERSION, PROTOCOL as FLEET_PROTOCOL } from "./fleet/index.js";
export { FleetPlanError, AgentProtocolError, AgentError, HostUnreachableError, AgentDisconnectedError, FleetFailedError, FleetStoppedError, FrameError } from "./fleet/index.js";
export type {
  Fleet, FleetOptions, FleetProbe, FleetProbes, FleetTable, FleetInfo, HostResult, HostError, HostProgress, FleetLatencyOptions,
  AgentCommand, SshOptions, KubernetesOptions, Plan as FleetPlan, PlanStep as FleetPlanStep, PlanValue as FleetPlanValue,
} from "./fleet/index.js";

// Exports: the formats other tools read (pprof, Perfetto trace JSON, Parquet, CSV, OTLP metrics)
export { exportPprof, KERNEL_MAPPING } from "./export/pprof.js";
export type { PprofOptions } from "./export/pprof.js";
export { exportPerfetto, CPU_TRACKS_PID, CPU_TRACK_TID_BASE } from "./export/perfetto.js";
export type { PerfettoOptions, TraceEvent, TraceEventFile } from "./export/perfetto.js";
export { writeParquet, parquetBytes } from "./export/parquet.js";
export type { ParquetOptions, ParquetCompression } from "./export/parquet.js";
export { readParquet } from "./export/read-parquet.js";
export { writeCsv, csvText } from "./export/csv.js";
export type { CsvOptions } from "./export/csv.js";
export { exportOtlp } from "./export/otlp.js";
export type { OtlpOptions } from "./export/otlp.js";
export type { WriteOptions } from "./engine/write-private.js";

// More data than memory: a trace spilled to Parquet files as it runs, queried with DuckDB (docs/spill.md)
export { spill } from "./spill/spill.js";
export type { SpillOptions, Spillable } from "./spill/spill.js";
export { SpilledTrace, openSpill } from "./spill/spilled-trace.js";
export type { SpillStats, SpillFile } from "./spill/spilled-trace.js";
export { query, QuerySession } from "./spill/query.js";
export type { ViewSource } from "./spill/query.js";
export type { ResultOptions } from "./spill/convert.js";
export { SpillDirError, QueryError, DuckDBMissingError } from "./spill/errors.js";

// Record and replay: a notebook's calls into bpfbook and what they returned, so it runs again without BPF or root
export { ReplaySession, ReplayMismatchError, machineFacts } from "./replay/session.js";
export { RecordingError, readIndex as readRecording, recordingPathOf, RECORDING_FORMAT, RECORDING_VERSION } from "./replay/format.js";
export type { RecordingIndex, RecordedCall, MachineFacts, Outcome as RecordedOutcome } from "./replay/format.js";

// Analysis of results
export { percentiles, percentileFromBuckets, compare } from "./analysis/compare.js";
export { syscallName, syscallNumber } from "./analysis/syscalls.js";
export { withErrno } from "./analysis/errno.js";
export { fieldNames, namedFields, withNames } from "./analysis/names/index.js";
export type { NameDecoder } from "./analysis/names/index.js";

// Kernel structs from BTF: typed paths through kernel pointers
export { pathOf, currentPathOf } from "./btf/typed.js";
export type { KernelPathString, LeafOf, KernelStructs, KernelStructName } from "./btf/typed.js";
export { resolvePath, currentTaskPath, MAX_PATH_DEREFS } from "./btf/path.js";
export type { KernelPath, KernelLeaf } from "./btf/path.js";

// Charts
export { plot } from "./plot/index.js";
export type { PlotFigure, BarOptions, TimeseriesOptions, HistogramOptions, HeatmapOptions, FlamegraphOptions } from "./plot/index.js";

// Symbols: ELF files, user functions, kernel symbols
export { resolveBinary, resolveFunction } from "./symbols/resolve.js";
export type { ResolvedFunction } from "./symbols/resolve.js";
export { ElfFile } from "./symbols/elf.js";
export type { ElfSymbol, ElfSegment, ElfSection } from "./symbols/elf.js";
export { KernelSymbols } from "./symbols/kallsyms.js";
export type { KernelSymbol } from "./symbols/kallsyms.js";

// libbpf objects
export { BpfObject } from "./libbpf/object.js";
export { BpfProgram } from "./libbpf/program.js";
export { BpfMap } from "./libbpf/map.js";
export * from "./libbpf/link.js";
export { setLibbpfLogLevel } from "./libbpf/log.js";

// The machine: privileges and feature detection
export { privileges } from "./privileges.js";
export { doctor } from "./doctor/doctor.js";
export type { DoctorReport } from "./doctor/doctor.js";

// Errors
export * from "./errors.js";
export { TracefsNotMountedError, TracepointFormatError, UnknownTracepointError, UnknownFieldError } from "./tracefs/errors.js";
export { BinaryNotFoundError, NotElfError, UnknownSymbolError, UnsafeOffsetError } from "./symbols/errors.js";
