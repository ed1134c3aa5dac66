// The data that crosses between renderer and core. Types only: the renderer imports these.

import type { WireError } from "./errors.js";

export interface AppInfo {
  version: string;
  /** "desktop" inside Electron, "headless" under `quanta serve`. */
  shell: "desktop" | "headless";
  platform: string;
  dataDir: string;
  modelFolders: string[];
}

/** A folder searched for models: Quanta's own, one from QUANTA_MODELS, or one the user added (only those can be removed). */
export interface ModelFolder {
  path: string;
  added: boolean;
}

/** One GGUF file found in a model folder, described from its header. */
export interface ModelSummary {
  id: string;
  name: string;
  fileName: string;
  folder: string;
  sizeBytes: number;
  architecture: string | null;
  /** llama.cpp's name of the file type, e.g. "Q4_K_M" or "F32". */
  quantization: string | null;
  parameterCount: number | null;
  contextLength: number | null;
  hasChatTemplate: boolean;
  /** Set when the header could not be read; such a model cannot be loaded. */
  error: WireError | null;
  // Model library: where it came from, and its family (same base model, other quantizations).
  source: ModelSource;
  /** Files of a split GGUF (-00001-of-0000N); 1 for a single file. */
  parts: number;
  familyId: string;
  familyName: string;
  /** Quanta may delete it: it lies in Quanta's own models folder. */
  owned: boolean;
}

export interface ThreadTrial {
  threads: number;
  tokensPerSecond: number;
}

/** The outcome of measuring generation speed at each candidate thread count. */
export interface ThreadCalibration {
  chosen: number;
  trials: ThreadTrial[];
  measuredAt: string;
}

export interface LoadedModel {
  modelId: string;
  name: string;
  contextSize: number;
  threads: number;
  /** How the thread count was chosen: measured now, remembered from an earlier measurement, or set by the user. */
  threadsSource: "calibrated" | "remembered" | "setting";
  calibration: ThreadCalibration | null;
  gpu: string | null;
  gpuLayers: number;
  chatTemplate: string;
  loadMs: number;
  /** What was asked for (the engine uses fewer layers without a GPU, or when fewer fit). */
  gpuLayersAsked?: GpuLayersChoice;
}

export type EngineState =
  | { kind: "starting" }
  | { kind: "idle" }
  | { kind: "loading"; modelId: string; progress: number; phase: "loading" | "calibrating" }
  | { kind: "ready"; model: LoadedModel }
  | { kind: "failed"; error: WireError; restarting: boolean };

export type StopReason = "end" | "stopped" | "max_tokens" | "context_full" | "error";

export interface GenerationStats {
  promptTokens: number;
  generatedTokens: number;
  timeToFirstTokenMs: number;
  /** Generation speed, first token excluded. */
  tokensPerSecond: number;
  promptTokensPerSecond: number;
  stopReason: StopReason;
  threads: number;
}

export type MessageRole = "user" | "assistant";

export type MessageStatus = "complete" | "streaming" | "stopped" | "failed";

export interface ChatMessage {
  id: string;
  role: MessageRole;
  text: string;
  createdAt: string;
  status: MessageStatus;
  modelId: string | null;
  stats: GenerationStats | null;
  error: WireError | null;
  /** The message this one answers or follows; null for a conversation's first. Absent in format 1 (read as the previous message). */
  parentId?: string | null;
  /** For a reply: the model file and the settings that produced it. */
  provenance?: ReplyProvenance | null;
}

export interface Chat {
  id: string;
  title: string;
  createdAt: string;
  updatedAt: string;
  /** The branch on show, oldest first. */
  messages: ChatMessage[];
  settings: ChatSettings;
  /** For a message on show that has other versions (edits, regenerated replies): all their ids, oldest first. */
  versions: Record<string, string[]>;
}

export interface ChatSummary {
  id: string;
  title: string;
  updatedAt: string;
  messageCount: number;
}

// ---- Conversations: per-conversation settings, provenance, search -------------------------

export type SamplingPresetName = "precise" | "balanced" | "creative";

export interface SamplingValues {
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  repeatPenalty: number;
  /** null: a fresh random seed for every reply. */
  seed: number | null;
  maxTokens: number;
}

export interface ChatSettings {
  systemPrompt: string;
  preset: SamplingPresetName;
  /** Values set by hand for this conversation; the preset gives the rest. */
  overrides: Partial<SamplingValues>;
  /** The window this conversation's prompt may fill, at most the loaded context; null: all of it. */
  contextSize: number | null;
  /** A chat template by node-llama-cpp's wrapper name; null: the one the model file implies. */
  chatTemplate: string | null;
}

/** Which model file wrote a reply: enough to tell it from another file of the same name. */
export interface ModelFileRef {
  fileName: string;
  quantization: string | null;
  sizeBytes: number;
  mtimeMs: number;
}

export interface ReplyProvenance {
  model: ModelFileRef;
  sampling: SamplingValues;
  systemPrompt: string;
  contextSize: number;
  chatTemplate: string;
  /** Earlier messages left out of the prompt so that it fit the context window. */
  droppedMessages: number;
}

export interface ChatSearchHit extends ChatSummary {
  /** Text around the first match in a message; null when only the title matched. */
  snippet: string | null;
}

export interface OpenExternalResult {
  /** True when the desktop shell opened it; false in headless mode: the page opens `url` itself. */
  opened: boolean;
  url: string;
}


// ---- Hardware and compute monitor -------------------------------------------------------

/** Something the monitor cannot read on this machine, and why (shown, never a fake zero). */
export interface MissingReading {
  what: "cpu" | "per-core-cpu" | "memory" | "swap" | "gpu" | "gpu-utilization" | "gpu-temperature" | "vram" | "processes";
  reason: string;
}

export interface GpuReading {
  index: number;
  name: string;
  /** Busy fraction 0..1, null where the platform does not expose it. */
  utilization: number | null;
  temperatureC: number | null;
  vramUsedBytes: number | null;
  vramTotalBytes: number | null;
}

export interface ProcessReading {
  role: "core" | "engine" | "renderer" | "gpu-process" | "utility";
  pid: number;
  /** CPU time used since the previous sample, as a fraction of one core (may exceed 1). */
  cpu: number;
  rssBytes: number;
}

/** What the loaded model and its KV cache occupy. */
export interface ModelFootprint {
  modelId: string;
  weightsBytes: number;
  kvCacheBytes: number;
  ramBytes: number;
  vramBytes: number;
  gpuLayers: number;
  threads: number;
}

/** The reply being generated now. */
export interface GenerationReading {
  chatId: string;
  messageId: string;
  generatedTokens: number;
  /** Over the last second or so; 0 before the first token. */
  tokensPerSecond: number;
  timeToFirstTokenMs: number | null;
  contextUsed: number;
  contextSize: number;
}

/** One reading of the machine and of Quanta, taken by the core's hardware monitor. */
export interface HardwareSample {
  /** Milliseconds since the epoch. */
  at: number;
  /** Busy fraction 0..1 since the previous sample, over all cores and per core. */
  cpu: { total: number; perCore: number[] } | null;
  memory: { usedBytes: number; totalBytes: number; swapUsedBytes: number | null; swapTotalBytes: number | null } | null;
  gpus: GpuReading[];
  processes: ProcessReading[];
  model: ModelFootprint | null;
  generation: GenerationReading | null;
  missing: MissingReading[];
}

export interface MonitorMarker {
  at: number;
  kind: "model-loaded" | "generation-started" | "generation-ended" | "engine-restarted";
  label: string;
}

/** The recorded window (the last 10 minutes at most) and how it is being sampled. */
export interface MonitorHistory {
  intervalMs: number;
  windowMs: number;
  samples: HardwareSample[];
  markers: MonitorMarker[];
}

export interface BandwidthProbe {
  /** Memory bandwidth measured by copying a buffer much larger than the caches, in GB/s (10^9). */
  gbPerSecond: number;
  bytesMoved: number;
  measuredAt: string;
}

/** What one generated token costs the loaded model, and how close generation runs to the memory limit. */
export interface ComputeCost {
  modelId: string;
  parameterCount: number;
  /** About two FLOPs per weight, plus attention over the context in use. */
  flopsPerToken: number;
  /** Weights read per token (all of them, except the one embedding row looked up) plus the KV cache read. */
  bytesPerToken: number;
  contextUsed: number;
  /** From the latest measured generation speed; null before any reply. */
  tokensPerSecond: number | null;
  achievedGflops: number | null;
  achievedGBps: number | null;
  bandwidth: BandwidthProbe | null;
  /** achievedGBps / bandwidth.gbPerSecond, the share of the memory-bandwidth limit reached. */
  fractionOfBandwidth: number | null;
}

// ---- Quantization lab ---------------------------------------------------------------------

/** One type a model can be quantized to, with the size the quantizer's table predicts. */
export interface QuantizeOption {
  type: string;
  bitsPerWeight: number;
  predictedBytes: number;
  /** "llama.cpp": its quantizer's dry run chose every tensor's type; "estimate": the type's typical bits per weight. */
  predictedBy: "llama.cpp" | "estimate";
  /** The file name the variant gets. */
  fileName: string;
  /** A file of that name is already in the default destination (it is kept; choose it in a comparison instead). */
  exists: boolean;
}

/** A folder the Lab can write a source's variants to. */
export interface QuantizeDestination {
  /** "beside": the source's own folder; "models": a family folder in Quanta's own models folder. */
  kind: "beside" | "models";
  folder: string;
  /** The types whose variant file is already there. */
  existing: string[];
}

/** Why a source's own folder is not offered for its variants: another app's store, not a folder the user added, not writable. */
export type BesideRefusal = "other_app" | "not_user_folder" | "not_writable";

export interface QuantizePlan {
  modelId: string;
  sourceType: string;
  /** Null when the source can be quantized; else why not (already low-bit, unreadable). */
  refusal: string | null;
  options: QuantizeOption[];
  /** Where the variants can go, the default first: the Lab shows it before it starts. */
  destinations: QuantizeDestination[];
  besideRefusal: BesideRefusal | null;
}

export type LabJobState = "queued" | "running" | "done" | "failed" | "cancelled";

export interface QuantizeJob {
  jobId: string;
  modelId: string;
  sourceName: string;
  type: string;
  fileName: string;
  /** The folder the variant is written to. */
  folder: string;
  state: LabJobState;
  fraction: number;
  bytesWritten: number;
  bytesExpected: number;
  /** The new variant's id in the library, once done. */
  resultModelId: string | null;
  error: WireError | null;
}

export interface EvalText {
  id: string;
  title: string;
  source: "builtin" | "user";
  chars: number;
}

export interface KlDivergence {
  mean: number;
  median: number;
  p99: number;
  max: number;
}

/** Everything measured for one variant in a comparison. */
export interface QuantVariantResult {
  modelId: string | null;
  name: string;
  fileName: string;
  fileType: string;
  sizeBytes: number;
  parameterCount: number;
  /** 8 × tensor bytes ÷ parameters. */
  bitsPerWeight: number;
  isReference: boolean;
  loadMs: number;
  ramBytes: number;
  vramBytes: number;
  threads: number;
  promptTokens: number;
  promptTokensPerSecond: number;
  generatedTokens: number;
  generationTokensPerSecond: number;
  perplexity: number;
  /** perplexity ÷ the reference's. */
  perplexityRatio: number;
  /** Null for the reference. */
  kld: KlDivergence | null;
  sameTopRate: number | null;
  scoredTokens: number;
}

export type LabRunStatus = "running" | "complete" | "failed" | "cancelled";

export interface LabRun {
  id: string;
  createdAt: string;
  finishedAt: string | null;
  status: LabRunStatus;
  modelName: string;
  architecture: string;
  textId: string;
  textTitle: string;
  contextSize: number;
  /** Reference first, then the others in the order measured. */
  variants: QuantVariantResult[];
  machine: { cpu: string; cores: number; memoryBytes: number; gpu: string | null };
  error: WireError | null;
}

export interface LabRunSummary {
  id: string;
  createdAt: string;
  status: LabRunStatus;
  modelName: string;
  textTitle: string;
  contextSize: number;
  variantCount: number;
}

export type LabPhase = "quantizing" | "loading" | "calibrating" | "speed" | "evaluating";

export interface LabRunProgress {
  runId: string;
  /** 0-based index of the variant being measured, and how many there are. */
  variant: number;
  variants: number;
  variantName: string;
  phase: LabPhase;
  /** The whole run's progress, 0..1. */
  fraction: number;
}

/** One variant's continuation of a prompt, beside the reference's. */
export interface SideBySideColumn {
  modelId: string | null;
  fileName: string;
  fileType: string;
  isReference: boolean;
  /** Each generated token's text (greedy decoding). */
  pieces: string[];
  /** Index of the first token where this variant leaves the reference's path; null if it never does. */
  divergesAt: number | null;
  /** Teacher-forced: this variant's probability of each of the reference's tokens. */
  referenceProbabilities: number[];
  error: WireError | null;
}

export interface SideBySide {
  id: string;
  prompt: string;
  maxTokens: number;
  status: LabRunStatus;
  /** Reference first. */
  columns: SideBySideColumn[];
  error: WireError | null;
}

/** The lab's events (part of CoreEvent). */
export type LabEvent =
  | { type: "lab.quantize"; job: QuantizeJob }
  | { type: "lab.progress"; progress: LabRunProgress }
  | { type: "lab.run"; run: LabRun }
  | { type: "lab.sideBySide"; result: SideBySide }
  | { type: "lab.stream"; id: string; column: number; text: string };

/** Events the core pushes to every connected renderer (monitor events only to those watching). */
export type CoreEvent =
  | { type: "engine"; state: EngineState }
  | { type: "models"; models: ModelSummary[] }
  | LibraryEvent
  | { type: "generation.delta"; chatId: string; messageId: string; text: string; contextUsed: number }
  | { type: "generation.done"; chatId: string; message: ChatMessage }
  | { type: "monitor.sample"; sample: HardwareSample }
  | { type: "monitor.marker"; marker: MonitorMarker }
  | LabEvent;

// ---- Model library: inspector, families, hub downloads -----------------------------------

/** Where a model file was found: Quanta's own folder, a folder the user named, or another app's store (read-only). */
export type ModelSource = "quanta" | "folder" | "lmstudio" | "ollama";

export interface TensorRow {
  name: string;
  type: string;
  /** ggml order: shape[0] is the row length. */
  shape: number[];
  elements: number;
  bytes: number;
}

export interface MetadataRow {
  key: string;
  /** The declared GGUF type ("string", "uint32", "array of string"…). */
  type: string;
  /** A readable rendering, cut short for long values and arrays. */
  value: string;
}

export interface QuantBreakdownRow {
  type: string;
  tensors: number;
  elements: number;
  bytes: number;
  /** bytes / all tensor bytes. */
  share: number;
}

/** Everything the header of one GGUF model says, read without touching the weights. */
export interface ModelInspection {
  modelId: string;
  fileName: string;
  sizeBytes: number;
  parts: number;
  ggufVersion: number;
  architecture: string | null;
  name: string;
  basename: string | null;
  sizeLabel: string | null;
  license: string | null;
  fileType: string;
  parameterCount: number;
  tensorBytes: number;
  contextLength: number | null;
  layers: number | null;
  embeddingLength: number | null;
  headCount: number | null;
  headCountKv: number | null;
  feedForwardLength: number | null;
  vocabSize: number | null;
  tokenizerModel: string | null;
  chatTemplate: string | null;
  bitsPerWeight: number;
  byType: QuantBreakdownRow[];
  tensors: TensorRow[];
  metadata: MetadataRow[];
  readMs: number;
}

/** The hub Quanta downloads from, and where that address came from. */
export interface HubAddress {
  url: string;
  source: "env" | "settings" | "default";
}

/** One GGUF repository on the hub. */
export interface HubRepository {
  id: string;
  downloads: number | null;
  likes: number | null;
  updatedAt: string | null;
}

/** One downloadable model in a repository: a single file, or every part of a split GGUF. */
export interface HubModelFile {
  /** The first file's path (the one llama.cpp opens). */
  path: string;
  files: Array<{ path: string; sizeBytes: number; sha256: string | null }>;
  sizeBytes: number;
  quantization: string;
}

export interface HubRepositoryFiles {
  repo: string;
  /** By quantization, smallest first. */
  groups: Array<{ quantization: string; files: HubModelFile[] }>;
}

export type DownloadStatus = "queued" | "downloading" | "paused" | "verifying" | "done" | "failed" | "cancelled";

export interface DownloadJob {
  id: string;
  repo: string;
  /** The first file's path in the repository. */
  path: string;
  status: DownloadStatus;
  totalBytes: number;
  receivedBytes: number;
  /** Bytes per second over the last few seconds; null when not downloading. */
  bytesPerSecond: number | null;
  secondsLeft: number | null;
  error: WireError | null;
  /** Set once verified and visible in the library. */
  modelId: string | null;
}

/** A recommended model for first run, from resources/model-catalog.json. */
export interface CatalogEntry {
  repo: string;
  file: string;
  sizeBytes: number;
  parameters: string;
  description: string;
}

/** Will a model fit? llama.cpp's estimate of weights plus KV cache at a context size, against what is free now. */
export interface FitEstimate {
  modelId: string;
  /** The context size estimated for (the model's trained size when smaller than asked). */
  contextSize: number;
  /** Everything fits (on the GPU when there is one); only some layers fit on the GPU; or RAM is short. */
  verdict: "fits" | "fits_partly" | "does_not_fit";
  gpu: string | null;
  totalLayers: number;
  /** The most layers that fit in free VRAM (0 without a GPU). */
  gpuLayers: number;
  ramBytes: number;
  vramBytes: number;
  weightsBytes: number;
  kvCacheBytes: number;
  freeRamBytes: number;
  totalRamBytes: number;
  freeVramBytes: number | null;
  totalVramBytes: number | null;
}

/** The same estimate for a model still on the hub (its header read over HTTP). */
export type HubFitEstimate = Omit<FitEstimate, "modelId"> & { repo: string; path: string };

export type LibraryEvent = { type: "download"; job: DownloadJob };

// ---- Load settings per model: GPU layers and context size ---------------------------------

/** "auto": llama.cpp offloads as many layers as fit in free VRAM; a number: at most that many. */
export type GpuLayersChoice = "auto" | number;

/** What a model is loaded with, remembered per model from its last load. */
export interface ModelLoadChoice {
  gpuLayers: GpuLayersChoice;
  /** null: the default context size. */
  contextSize: number | null;
}
