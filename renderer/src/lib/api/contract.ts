// The renderer's one door into electron/contract (types, the error class, the wire codec) and
// electron/common (pure code for any runtime). Nothing else in the renderer imports from
// electron/, so the boundary stays where it was drawn (test/unit/boundaries.test.ts checks it).

export type {
  AppInfo,
  BandwidthProbe,
  CatalogEntry,
  Chat,
  ChatMessage,
  ChatSearchHit,
  ChatSearchMatch,
  ChatImportResult,
  MessageDeletion,
  ChatSettings,
  ChatSummary,
  ModelFileRef,
  OpenExternalResult,
  ReplyProvenance,
  SamplingPresetName,
  SamplingValues,
  ComputeCost,
  CoreEvent,
  DownloadJob,
  DownloadStatus,
  EngineBuild,
  EngineState,
  FitEstimate,
  GenerationReading,
  GenerationStats,
  GpuReading,
  HardwareSample,
  HubAddress,
  HubFitEstimate,
  HubModelFile,
  HubRepository,
  HubRepositoryFiles,
  LoadedModel,
  MessageRole,
  MessageStatus,
  MissingReading,
  MetadataRow,
  MemoryFootprint,
  ModelFolder,
  ModelFootprint,
  ModelInspection,
  ModelSource,
  ModelSummary,
  MonitorHistory,
  MonitorMarker,
  ProcessReading,
  QuantBreakdownRow,
  StopReason,
  TensorRow,
  ThreadCalibration,
  ThreadTrial,
  GpuLayersChoice,
  ModelLoadChoice,
  FlashAttentionChoice,
  KvCacheType,
  LoadDefaults,
  LoadOptionsInEffect,
} from "../../../../electron/contract/types.js";
// Load options beside GPU layers: the KV cache types (pure), and the bounds the form checks (restated in fit.svelte.ts).
export { KV_CACHE_TYPES, kvElementBytes } from "../../../../electron/contract/kv-cache.js";
export type {
  MAX_BATCH_SIZE,
  MAX_LOAD_THREADS,
  MIN_BATCH_SIZE,
  MIN_LOAD_CONTEXT_SIZE,
  LoadOptions,
} from "../../../../electron/contract/api.js";
export type { CoreApi, RendererApi, SendMessageResult } from "../../../../electron/contract/api.js";
// Local API server: its settings, state and request log; the model ids clients use (pure).
export type { ApiRequestLogEntry, ApiServerSettings, ApiServerState, ApiServerStatus } from "../../../../electron/contract/types.js";
export type { DEFAULT_API_PORT } from "../../../../electron/contract/api.js";
export { apiModelIds } from "../../../../electron/contract/api-model-ids.js";
// What the one engine is generating, for every tab.
export type { GenerationActivity, GenerationOwnerInfo } from "../../../../electron/contract/types.js";
// Quantization lab: its types, and its report formats (pure functions, shared with the CLI).
export type {
  EvalText,
  KlDivergence,
  LabJobState,
  LabPhase,
  LabRun,
  LabRunProgress,
  LabRunSummary,
  BesideRefusal,
  QuantizeDestination,
  ReferenceCacheUsage,
  QuantizeJob,
  QuantizeOption,
  QuantizePlan,
  QuantVariantResult,
  SideBySide,
  SideBySideColumn,
} from "../../../../electron/contract/types.js";
export { runToCsv, runToMarkdown, runsToCsv } from "../../../../electron/contract/lab-report.js";
// Mixed precision recipes beside their base type (pure), and the Lab's planner (electron/common).
export { recipeGains, type RecipeGain } from "../../../../electron/contract/lab-report.js";
export {
  GPT3_175B,
  planModel,
  PLANNER_SIZES,
  PLANNER_TYPES,
  shapeFromParameters,
  type Fit,
  type MachineCapacity,
  type ModelShape,
  type PlanRow,
} from "../../../../electron/common/model-planner.js";
// The tokens an evaluation text needs at a context (the core refuses a shorter one; the form says so first).
export { evalTextLongEnough, evalTokensNeeded } from "../../../../electron/common/eval-windows.js";
// Type-only on purpose: importing these values would bundle api.ts's zod schemas (about 90 kB)
// into the renderer. The renderer restates them and `typeof` ties each copy to the contract.
export type {
  DEFAULT_SAMPLE_INTERVAL_MS,
  MAX_SAMPLE_INTERVAL_MS,
  MIN_SAMPLE_INTERVAL_MS,
  MONITOR_WINDOW_MS,
  LAB_MAX_TEXT_CHARS,
  TEXT_PART_MAX_CHARS,
  MAX_CHAT_IMPORT_BYTES,
} from "../../../../electron/contract/api.js";
// Pure values (no zod): the presets and templates the chat settings offer.
export {
  DEFAULT_CHAT_SETTINGS,
  DEFAULT_LOAD_CONTEXT_SIZE,
  KNOWN_CHAT_TEMPLATES,
  rebaseSettings,
  resolveSampling,
  SAMPLING_PRESET_NAMES,
  SAMPLING_PRESETS,
  settingsChanges,
} from "../../../../electron/contract/chat-settings.js";
// A conversation's JSON export: made here, imported by the core (pure).
export { chatToJson, type ChatExport } from "../../../../electron/contract/chat-export.js";
// Pure code every runtime shares (electron/common): the one rule for which links are followed.
export { httpsLinkOrNull } from "../../../../electron/common/external-link.js";
// Composing: saved system prompts and token counts.
export type { ChatContextCount, DraftTokenCount, SavedSystemPrompt, TokenCountMissing } from "../../../../electron/contract/types.js";
export type { ErrorCode, WireError } from "../../../../electron/contract/errors.js";
export { ERROR_CODES, isErrorCode, QuantaError } from "../../../../electron/contract/errors.js";
export { decodeRpcMessage, decodeRpcText, encodeRpcMessage, encodeRpcText } from "../../../../electron/contract/wire.js";
