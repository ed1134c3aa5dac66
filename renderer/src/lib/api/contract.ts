// The renderer's one door into electron/contract: types, the error class, and the wire codec.
// Nothing else in the renderer imports from electron/, so the boundary stays where it was drawn.

export type {
  AppInfo,
  BandwidthProbe,
  Chat,
  ChatMessage,
  ChatSummary,
  ComputeCost,
  CoreEvent,
  EngineState,
  GenerationReading,
  GenerationStats,
  GpuReading,
  HardwareSample,
  LoadedModel,
  MessageRole,
  MessageStatus,
  MissingReading,
  ModelFootprint,
  ModelSummary,
  MonitorHistory,
  MonitorMarker,
  ProcessReading,
  StopReason,
  ThreadCalibration,
  ThreadTrial,
} from "../../../../electron/contract/types.js";
export type { CoreApi, RendererApi, SendMessageResult } from "../../../../electron/contract/api.js";
// Quantization lab: its types, and its report formats (pure functions, shared with the CLI).
export type {
  EvalText,
  KlDivergence,
  LabJobState,
  LabPhase,
  LabRun,
  LabRunProgress,
  LabRunSummary,
  QuantizeJob,
  QuantizeOption,
  QuantizePlan,
  QuantVariantResult,
  SideBySide,
  SideBySideColumn,
} from "../../../../electron/contract/types.js";
export { runToCsv, runToMarkdown } from "../../../../electron/contract/lab-report.js";
// Type-only on purpose: importing these values would bundle api.ts's zod schemas (about 90 kB)
// into the renderer. The renderer restates them and `typeof` ties each copy to the contract.
export type {
  DEFAULT_SAMPLE_INTERVAL_MS,
  MAX_SAMPLE_INTERVAL_MS,
  MIN_SAMPLE_INTERVAL_MS,
  MONITOR_WINDOW_MS,
} from "../../../../electron/contract/api.js";
export type { ErrorCode, WireError } from "../../../../electron/contract/errors.js";
export { QuantaError } from "../../../../electron/contract/errors.js";
export {
  decodeRpcMessage,
  decodeRpcText,
  encodeRpcMessage,
  encodeRpcText,
} from "../../../../electron/contract/wire.js";
