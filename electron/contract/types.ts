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
  /**
   * The same for batches (prompt processing, tokens per second): the count prompts and lab
   * windows run with. Absent in calibrations remembered from before batches had their own.
   */
  batch?: { chosen: number; trials: ThreadTrial[] };
}

/** Which build of llama.cpp the engine runs: node-llama-cpp's prebuilt binaries, or one compiled on this machine (`quanta engine build`). */
export interface EngineBuild {
  kind: "prebuilt" | "local";
  /** llama.cpp's release as node-llama-cpp names it ("v0.5.0"). */
  llamaCpp: string;
  /** The CPU kernel variant a prebuilt picked for this CPU ("haswell", "zen4", "x64"...); null for a build with one variant. */
  cpuVariant: string | null;
}

export interface LoadedModel {
  modelId: string;
  name: string;
  contextSize: number;
  /** Threads for generation (one token at a time). */
  threads: number;
  /** Threads for batches: prompts and lab windows. Absent from engines that use one count for both. */
  batchThreads?: number;
  /** How the thread count was chosen: measured now, remembered from an earlier measurement, or set by the user. */
  threadsSource: "calibrated" | "remembered" | "setting";
  calibration: ThreadCalibration | null;
  gpu: string | null;
  gpuLayers: number;
  chatTemplate: string;
  loadMs: number;
  /** What was asked for (the engine uses fewer layers without a GPU, or when fewer fit). */
  gpuLayersAsked?: GpuLayersChoice;
  /** The load options in effect, read back after the load; absent from older engines. */
  options?: LoadOptionsInEffect;
  /** The llama.cpp build that loaded it; absent from older engines. */
  build?: EngineBuild;
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
  /** That match in parts (to highlight it) and the message (the version) that holds it; null when only the title matched. */
  match: ChatSearchMatch | null;
}

/** A query found in one version of a message: the snippet as context, match, context ("…" where cut). */
export interface ChatSearchMatch {
  messageId: string;
  before: string;
  text: string;
  after: string;
}

/** What an imported conversation became: a new conversation, never one that existed. */
export interface ChatImportResult {
  chat: Chat;
  /** Every message of every version that was imported. */
  messageCount: number;
}

/** What deleting a message removed: it and what followed it (see ChatCoreApi.deleteMessage). */
export interface MessageDeletion {
  chat: Chat;
  deletedIds: string[];
}

export interface OpenExternalResult {
  /** True when the desktop shell opened it; false in headless mode: the page opens `url` itself. */
  opened: boolean;
  url: string;
}

// ---- Composing: saved system prompts, token counts of the conversation and the draft ------

/** A system prompt a person named and saved, to pick for any conversation. */
export interface SavedSystemPrompt {
  id: string;
  name: string;
  text: string;
  createdAt: string;
  updatedAt: string;
}

/** Why a token count cannot be had now (shown as "not available", never as 0). */
export type TokenCountMissing = "no_model_loaded" | "model_loading" | "engine_unavailable";

/**
 * How much of the context a conversation fills: the tokens of its system prompt and the
 * branch on show through the chat template in use, counted by the loaded model's tokenizer,
 * against its window (the conversation's own limit within the loaded context).
 */
export type ChatContextCount =
  { counted: true; usedTokens: number; contextSize: number; chatTemplate: string } | { counted: false; missing: TokenCountMissing };

/**
 * A message being typed: its own tokens, and the prompt it would make if sent now (the
 * conversation, the message and the template) against the window. `fit`: it fits; the
 * oldest turns would be left out (`droppedMessages` of them); or it is too long even alone.
 */
export type DraftTokenCount =
  | {
      counted: true;
      tokens: number;
      promptTokens: number;
      contextSize: number;
      /** What the window has left after the prompt (negative when it does not fit). */
      leftTokens: number;
      fit: "fits" | "drops_turns" | "too_long";
      droppedMessages: number;
    }
  | { counted: false; missing: TokenCountMissing };

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

// ---- Memory a model occupies: one definition for Will it fit, the Hardware view and the Lab ----

/**
 * Where a loaded (or estimated) model's memory goes, as llama.cpp allocates it. Every view names
 * these the same way:
 * - weights: the model's tensors (memory-mapped or copied), in RAM and VRAM together;
 * - KV cache: the keys and values kept for every position of the context (F16), for the whole
 *   context size, whether used yet or not; null where the model's cache is not a plain KV cache
 *   (recurrent or sliding-window models), as Quanta cannot tell it apart from the compute buffers;
 * - compute buffers: the scratch memory llama.cpp reserves to evaluate a batch (and the logits);
 *   null when the KV cache is;
 * - layers: the model's repeating blocks plus its output layer, as llama.cpp counts GPU layers.
 */
export interface MemoryFootprint {
  weightsBytes: number;
  kvCacheBytes: number | null;
  computeBytes: number | null;
  /** Everything above that lives in system memory. */
  ramBytes: number;
  /** Everything above that lives in GPU memory; null without a GPU (not available, not zero). */
  vramBytes: number | null;
  /** Repeating layers plus the output layer. */
  totalLayers: number;
  /** Of totalLayers, how many are on the GPU. */
  gpuLayers: number;
}

/** What the loaded model occupies now, measured from llama.cpp's buffers. */
export interface ModelFootprint extends MemoryFootprint {
  modelId: string;
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
  /** In English, for logs and exports; the renderer words the marker from kind and details. */
  label: string;
  /** The figures and names of the label, for the renderer to word in the user's language. */
  details?: MarkerDetails;
}

/** What a marker's label says, as data: the model, its threads and context; a reply's outcome, tokens and speed. */
export interface MarkerDetails {
  model?: string;
  threads?: number;
  contextSize?: number;
  outcome?: "done" | "stopped" | "failed";
  tokens?: number;
  tokensPerSecond?: number;
  /** Set on a local API request's markers: the endpoint it called (`model` is then the API's model id). */
  endpoint?: string;
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
  /** A mixed precision recipe ("Q4_K_M+Q8_0": output and token embeddings kept at `keep`); null for a plain type. */
  recipe: { base: string; keep: string } | null;
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
  /** Measured as MemoryFootprint.ramBytes at the evaluation's context; null in runs saved before it was measured so. */
  ramBytes: number | null;
  /** MemoryFootprint.vramBytes: null without a GPU (or not measured). */
  vramBytes: number | null;
  /** The full breakdown, where measured (runs saved before it have none). */
  footprint?: MemoryFootprint;
  threads: number;
  /** Threads the prompt speed and the evaluation ran with. Absent in runs saved before batches had their own. */
  batchThreads?: number;
  /** The speed figures (like llama-bench's pp and tg): null where not measured (a "quality only" run), never 0. */
  promptTokens: number | null;
  promptTokensPerSecond: number | null;
  generatedTokens: number | null;
  generationTokensPerSecond: number | null;
  perplexity: number;
  /** perplexity ÷ the reference's. */
  perplexityRatio: number;
  /** Null for the reference. */
  kld: KlDivergence | null;
  sameTopRate: number | null;
  scoredTokens: number;
  /**
   * The mixed precision recipe the file was made with ("Q4_K_M+Q8_0": its quanta.recipe
   * metadata); null for a plain type. Absent in runs saved before recipes existed.
   */
  recipe?: string | null;
}

export type LabRunStatus = "running" | "complete" | "failed" | "cancelled";

/** The lab's cache of reference distributions: what it holds, and its limit. */
export interface ReferenceCacheUsage {
  bytes: number;
  entries: number;
  limitBytes: number;
}

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
  /** engineBuild: the llama.cpp build that measured the speeds (absent from runs saved before it was recorded). */
  machine: { cpu: string; cores: number; memoryBytes: number; gpu: string | null; engineBuild?: EngineBuild };
  error: WireError | null;
  /**
   * Whether the reference's distribution came from the lab's cache ("reused"), was computed and
   * kept there ("stored"), or was computed for this run only ("uncached", with the reason).
   * Absent in runs saved before the cache existed.
   */
  referenceCache?: { status: "reused" | "stored" | "uncached"; reason: string | null };
  /** A "quality only" run: the speed tests were skipped (speeds null). Absent in runs saved before the option. */
  qualityOnly?: boolean;
  /** The file being measured when the run failed (the variants before it are kept); absent otherwise. */
  failedFile?: string;
}

export interface LabRunSummary {
  id: string;
  createdAt: string;
  status: LabRunStatus;
  modelName: string;
  /** The built-in text's id, which the renderer names in the user's language (textTitle is English). */
  textId: string;
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

// ---- What the one engine is doing, for every tab ------------------------------------------

/** Whose job runs on the engine: a conversation's reply, or a request to the local API. */
export type GenerationOwnerInfo = { kind: "chat"; chatId: string; title: string; messageId: string } | { kind: "api" };

/** The generation queue as every renderer sees it: the job on the engine and how many wait. */
export interface GenerationActivity {
  /** null while the engine generates nothing. */
  running: (GenerationOwnerInfo & { requestId: string }) | null;
  waiting: number;
}

/** A reply's start (so every tab showing the chat streams it) and the queue's changes. */
export type GenerationEvent =
  /** After the user's message is saved, before any delta of the reply: both messages as they stand. */
  | { type: "generation.started"; chatId: string; userMessage: ChatMessage | null; message: ChatMessage }
  | { type: "generation.activity"; activity: GenerationActivity };

/** Events the core pushes to every connected renderer (monitor events only to those watching). */
export type CoreEvent =
  | { type: "engine"; state: EngineState }
  | { type: "models"; models: ModelSummary[] }
  | LibraryEvent
  | { type: "generation.delta"; chatId: string; messageId: string; text: string; contextUsed: number }
  | { type: "generation.done"; chatId: string; message: ChatMessage }
  /** A conversation's settings as saved, from whichever tab changed them. */
  | { type: "chat.settings"; chatId: string; settings: ChatSettings; updatedAt: string }
  /** The conversation list changed in some tab: renamed, deleted, restored or imported (title null: deleted). */
  | { type: "chats.changed"; chatId: string; title: string | null }
  | GenerationEvent
  | { type: "monitor.sample"; sample: HardwareSample }
  | { type: "monitor.marker"; marker: MonitorMarker }
  | LabEvent
  | ApiServerEvent;

// ---- Model library: inspector, families, hub downloads -----------------------------------

/** Where a model file was found: Quanta's own folder, a folder the user named, or another app's store (read-only). */
export type ModelSource = "quanta" | "folder" | "lmstudio" | "ollama";

export interface TensorRow {
  name: string;
  /** The ggml type's name; null for a type id this llama.cpp does not know (see typeId). */
  type: string | null;
  typeId: number;
  /** ggml order: shape[0] is the row length. */
  shape: number[];
  elements: number;
  /** Null when the type is unknown: its size cannot be computed. */
  bytes: number | null;
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
  /** bytes / all tensor bytes; null when a tensor of unknown type leaves that total unknown. */
  share: number | null;
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
  /** Null when a tensor's type, and so its size, is unknown (unknownTensorTypes). */
  tensorBytes: number | null;
  contextLength: number | null;
  /** Repeating blocks plus the output layer (MemoryFootprint.totalLayers). */
  layers: number | null;
  embeddingLength: number | null;
  headCount: number | null;
  headCountKv: number | null;
  feedForwardLength: number | null;
  vocabSize: number | null;
  tokenizerModel: string | null;
  chatTemplate: string | null;
  bitsPerWeight: number | null;
  /** Bytes by known tensor type. */
  byType: QuantBreakdownRow[];
  /** Tensor type ids this llama.cpp does not know, ascending. */
  unknownTensorTypes: number[];
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
  /** In English. */
  description: string;
  /** The description in other languages, by language tag ("zh-CN"); English where one is missing. */
  descriptions?: Record<string, string>;
}

/**
 * Will a model fit? llama.cpp's estimate of its MemoryFootprint (weights, KV cache and compute
 * buffers) at a context size, with gpuLayers the most layers that fit in free VRAM (0 without a
 * GPU), against what is free now.
 */
export interface FitEstimate extends MemoryFootprint {
  modelId: string;
  /** The context size estimated for (the model's trained size when smaller than asked). */
  contextSize: number;
  /** Everything fits (on the GPU when there is one); only some layers fit on the GPU; or RAM is short. */
  verdict: "fits" | "fits_partly" | "does_not_fit";
  gpu: string | null;
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
  /** "auto": llama.cpp uses flash attention where the model and hardware support it. */
  flashAttention: FlashAttentionChoice;
  /** The type of the KV cache's keys and values; Q8_0 and Q4_0 need flash attention. */
  kvCacheType: KvCacheType;
  /** Tokens evaluated at once in a prompt; null: llama.cpp's default (512, or the context when smaller). */
  batchSize: number | null;
  /** "auto": node-llama-cpp maps the file where the system supports it. */
  mmap: "auto" | "on" | "off";
  /** Keep the weights locked in memory (never swapped out). */
  mlock: boolean;
  /** Threads for generation; null: the calibrated count. */
  threads: number | null;
  /** Threads for batches (prompts); null: the calibrated count. */
  batchThreads: number | null;
}

export type FlashAttentionChoice = "auto" | "on" | "off";

/** The KV cache types offered: llama.cpp's default F16, and the two quantized ones it supports widely. */
export type KvCacheType = "F16" | "Q8_0" | "Q4_0";

/** What a load really used, read back from llama.cpp (node-llama-cpp) after it loaded. */
export interface LoadOptionsInEffect {
  /** The context llama.cpp allocated (it rounds up to a multiple of 256). */
  contextSize: number;
  batchSize: number;
  /** As llama.cpp was told: "auto" leaves the choice to llama.cpp. */
  flashAttention: FlashAttentionChoice;
  /** llama.cpp's type names, e.g. "F16", "Q8_0". */
  kvCacheKeyType: string;
  kvCacheValueType: string;
  /** Whether the weights are memory-mapped from the file. */
  mmap: boolean;
  mlock: boolean;
}

/** What a model's load choices fall back to, and the bounds the form checks against. */
export interface LoadDefaults {
  modelId: string;
  /** The context the model was trained with: the largest context size allowed; null when its header does not say. */
  trainedContextSize: number | null;
  /** The context size used when none is chosen. */
  defaultContextSize: number;
  /** The batch size llama.cpp uses when none is chosen (512, or the context when smaller). */
  defaultBatchSize: number;
  /** The thread counts measured for this model on this machine (used unless overridden); null before its first load. */
  calibratedThreads: number | null;
  calibratedBatchThreads: number | null;
  /**
   * The attention head size of keys and values when a quantized KV cache cannot hold it (it
   * must be a multiple of 32); null when Q8_0 and Q4_0 can be used.
   */
  quantizedCacheHeadSize: number | null;
}

// ---- Local API server (OpenAI- and Anthropic-compatible) -----------------------------------

export interface ApiServerSettings {
  port: number;
  /** The address to bind; loopback (127.0.0.1) by default. */
  host: string;
  /** Required from clients on any bind that is not loopback; optional on loopback. */
  apiKey: string;
  requireKeyOnLoopback: boolean;
  cors: { enabled: boolean; origins: string[] };
  /** A request for a model that is not loaded loads it. */
  loadOnRequest: boolean;
  /** A model the API loaded is unloaded after this many idle minutes; null: never. */
  idleUnloadMinutes: number | null;
  /** Start the server when Quanta starts. */
  startOnLaunch: boolean;
}

export interface ApiServerStatus {
  running: boolean;
  /** The address clients use, e.g. http://127.0.0.1:8150/v1; null while stopped. */
  baseUrl: string | null;
  /** Why the server could not start (a port in use…). */
  error: WireError | null;
  /** Requests waiting for their turn on the engine. */
  waiting: number;
}

/** One request to the API, as the Server view's log shows it. */
export interface ApiRequestLogEntry {
  id: string;
  /** ISO time the request arrived. */
  at: string;
  method: string;
  endpoint: string;
  /** The model id the client named, or the loaded one; null when the request never got that far. */
  model: string | null;
  stream: boolean;
  /** null while it runs. */
  status: number | null;
  promptTokens: number | null;
  cachedTokens: number | null;
  completionTokens: number | null;
  /** Generation speed, first token excluded; null when not measured. */
  tokensPerSecond: number | null;
  timeToFirstTokenMs: number | null;
  durationMs: number | null;
  /** Requests ahead of it when it arrived. */
  queuedBehind: number;
  finishReason: string | null;
  /** The error the client was sent, if any. */
  error: string | null;
}

export interface ApiServerState {
  settings: ApiServerSettings;
  status: ApiServerStatus;
  log: ApiRequestLogEntry[];
}

export type ApiServerEvent = { type: "api.status"; status: ApiServerStatus } | { type: "api.request"; entry: ApiRequestLogEntry };
