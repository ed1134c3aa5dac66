// The one RPC contract between renderer and core: the methods the renderer may call, the
// zod schema that validates each call's arguments on arrival, and the events it receives.

import { z } from "zod";
import type {
  AppInfo,
  BandwidthProbe,
  CatalogEntry,
  Chat,
  ChatMessage,
  ChatSearchHit,
  ChatSettings,
  ChatSummary,
  ChatImportResult,
  MessageDeletion,
  ComputeCost,
  CoreEvent,
  DownloadJob,
  EngineState,
  FitEstimate,
  GenerationActivity,
  HubAddress,
  HubFitEstimate,
  HubRepository,
  HubRepositoryFiles,
  LoadedModel,
  ModelFolder,
  ModelInspection,
  ModelLoadChoice,
  GpuLayersChoice,
  LoadDefaults,
  ModelSummary,
  MonitorHistory,
  OpenExternalResult,
  EvalText,
  LabRun,
  LabRunSummary,
  ReferenceCacheUsage,
  QuantizeJob,
  QuantizePlan,
  ApiServerState,
  SavedSystemPrompt,
  ChatContextCount,
  DraftTokenCount,
} from "./types.js";
import { KNOWN_CHAT_TEMPLATES, SAMPLING_PRESET_NAMES } from "./chat-settings.js";
import { KV_CACHE_TYPES } from "./kv-cache.js";

const id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_-]+$/, "an id is letters, digits, - and _");

/** A hub repository id: owner/name. */
const hubRepo = z
  .string()
  .min(3)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/, "a repository is owner/name");

export const MAX_MESSAGE_CHARS = 200_000;

/** Hardware sampling runs from 4 Hz to 0.2 Hz; 1 Hz by default. */
export const MIN_SAMPLE_INTERVAL_MS = 250;
export const MAX_SAMPLE_INTERVAL_MS = 5000;
export const DEFAULT_SAMPLE_INTERVAL_MS = 1000;
/** The monitor keeps the last 10 minutes. */
export const MONITOR_WINDOW_MS = 10 * 60 * 1000;

// ---- Conversations: validation of what the renderer sends ----------------------------------

export const MAX_TITLE_CHARS = 200;
/** The largest conversation file imported (fits one message even with every character escaped). */
export const MAX_CHAT_IMPORT_BYTES = 524_288; // 512 KiB
export const MAX_SYSTEM_PROMPT_CHARS = 50_000;

const messageText = z
  .string()
  .max(MAX_MESSAGE_CHARS, `a message is at most ${MAX_MESSAGE_CHARS} characters`)
  .refine((text) => text.trim() !== "", "the message is empty");

/** Sampling values (a conversation's overrides, and what the core sends the engine per reply). */
export const samplingValuesSchema = z
  .object({
    temperature: z.number().min(0).max(5),
    topK: z.number().int().min(0).max(1000),
    topP: z.number().min(0).max(1),
    minP: z.number().min(0).max(1),
    repeatPenalty: z.number().min(0.5).max(3),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .nullable(),
    maxTokens: z.number().int().min(1).max(1_000_000),
  })
  .strict();

export const chatSettingsSchema = z
  .object({
    systemPrompt: z.string().max(MAX_SYSTEM_PROMPT_CHARS),
    preset: z.enum(SAMPLING_PRESET_NAMES),
    overrides: samplingValuesSchema.partial(),
    contextSize: z
      .number()
      .int()
      .min(64)
      .max(1 << 20)
      .nullable(),
    chatTemplate: z
      .string()
      .refine((name) => (KNOWN_CHAT_TEMPLATES as readonly string[]).includes(name), "not a known chat template")
      .nullable(),
  })
  .strict();

const chatRequestSchemas = {
  renameChat: z.tuple([
    z
      .object({
        chatId: id,
        title: z
          .string()
          .max(MAX_TITLE_CHARS)
          .refine((t) => t.trim() !== "", "the name is empty"),
      })
      .strict(),
  ]),
  deleteChat: z.tuple([z.object({ chatId: id }).strict()]),
  restoreChat: z.tuple([z.object({ chatId: id }).strict()]),
  searchChats: z.tuple([z.object({ query: z.string().max(1000) }).strict()]),
  // Only the fields a tab changed: two tabs editing different fields both keep theirs.
  updateChatSettings: z.tuple([z.object({ chatId: id, settings: chatSettingsSchema.partial() }).strict()]),
  editMessage: z.tuple([z.object({ chatId: id, messageId: id, text: messageText }).strict()]),
  regenerateReply: z.tuple([z.object({ chatId: id, messageId: id }).strict()]),
  selectVersion: z.tuple([z.object({ chatId: id, messageId: id }).strict()]),
  openExternal: z.tuple([z.object({ url: z.string().max(8192) }).strict()]),
  listAllMessages: z.tuple([z.object({ chatId: id }).strict()]),
  deleteMessage: z.tuple([z.object({ chatId: id, messageId: id }).strict()]),
  // A string never has more characters than UTF-8 bytes: the core words a file too large by its bytes.
  importChat: z.tuple([z.object({ text: z.string().max(MAX_CHAT_IMPORT_BYTES) }).strict()]),
} as const;

/** The conversation methods (sidebar, settings, versions, links). */
export interface ChatCoreApi {
  renameChat(request: { chatId: string; title: string }): Promise<Chat>;
  /** Moves the conversation aside; restoreChat brings it back. */
  deleteChat(request: { chatId: string }): Promise<void>;
  restoreChat(request: { chatId: string }): Promise<Chat>;
  /** Title and content of every version, case-insensitive; an empty query lists all. */
  searchChats(request: { query: string }): Promise<ChatSearchHit[]>;
  /** Changes the fields given and keeps the rest as saved; every tab is told ("chat.settings"). */
  updateChatSettings(request: { chatId: string; settings: Partial<ChatSettings> }): Promise<Chat>;
  /** A new version of a user message, answered by a new reply. */
  editMessage(request: { chatId: string; messageId: string; text: string }): Promise<SendMessageResult>;
  /** A new version of an assistant reply, from the same conversation before it. */
  regenerateReply(request: { chatId: string; messageId: string }): Promise<{ assistantMessageId: string }>;
  /** Shows the branch through this version of a message. */
  selectVersion(request: { chatId: string; messageId: string }): Promise<Chat>;
  /** https links only: the desktop opens them in the system browser; headless hands the URL back. */
  openExternal(request: { url: string }): Promise<OpenExternalResult>;
  /** Every message of every version, in the order written (for the JSON export). */
  listAllMessages(request: { chatId: string }): Promise<ChatMessage[]>;
  /**
   * Deletes this version of a message and what follows it (a user message's replies, every
   * version of them, and the turns after them); the other versions and what came before stay.
   * Refused with `busy` (reason delete_while_replying) while the conversation writes a reply.
   */
  deleteMessage(request: { chatId: string; messageId: string }): Promise<MessageDeletion>;
  /** A conversation exported as JSON (chat-export.ts), as a new conversation; `chat_import_invalid` if it is not one. */
  importChat(request: { text: string }): Promise<ChatImportResult>;
}

// ---- Composing: saved system prompts, token counts ----------------------------------------

export const MAX_PROMPT_NAME_CHARS = 80;
export const MAX_SAVED_PROMPTS = 500;

// The limits a person can run into carry a reason and figures, so the renderer words them.
const promptName = z
  .string()
  .max(10_000)
  .refine((name) => name.trim() !== "", { error: "the name is empty", params: { reason: "prompt_name_empty" } })
  .refine((name) => name.trim().length <= MAX_PROMPT_NAME_CHARS, {
    error: `a name is at most ${MAX_PROMPT_NAME_CHARS} characters`,
    params: { reason: "prompt_name_too_long", max: MAX_PROMPT_NAME_CHARS },
  });

const promptText = z
  .string()
  .max(MAX_MESSAGE_CHARS)
  .refine((text) => text.trim() !== "", { error: "the prompt is empty", params: { reason: "prompt_text_empty" } })
  .refine((text) => text.length <= MAX_SYSTEM_PROMPT_CHARS, {
    error: `a system prompt is at most ${MAX_SYSTEM_PROMPT_CHARS} characters`,
    params: { reason: "prompt_text_too_long", max: MAX_SYSTEM_PROMPT_CHARS },
  });

/** A saved system prompt as stored and as sent: the store reads its file with this schema. */
export const savedSystemPromptSchema = z
  .object({ id, name: promptName, text: promptText, createdAt: z.string().max(64), updatedAt: z.string().max(64) })
  .strict();

const composeRequestSchemas = {
  listSystemPrompts: z.tuple([]),
  saveSystemPrompt: z.tuple([z.object({ id: id.optional(), name: promptName, text: promptText }).strict()]),
  deleteSystemPrompt: z.tuple([z.object({ id }).strict()]),
  countChatContext: z.tuple([z.object({ chatId: id }).strict()]),
  countDraftTokens: z.tuple([z.object({ chatId: id, text: z.string().max(MAX_MESSAGE_CHARS) }).strict()]),
} as const;

/** Saved system prompts, and the token counts the chat view shows (counted by the loaded model). */
export interface ComposeCoreApi {
  /** By name. */
  listSystemPrompts(): Promise<SavedSystemPrompt[]>;
  /** A new one (no id) or a change to one; names are unique, whatever their case ("name_taken"). */
  saveSystemPrompt(request: { id?: string; name: string; text: string }): Promise<SavedSystemPrompt>;
  deleteSystemPrompt(request: { id: string }): Promise<void>;
  /** How much of its context the conversation fills; "not available" without a loaded model. */
  countChatContext(request: { chatId: string }): Promise<ChatContextCount>;
  /** A message being typed: its tokens and what the context would have left if it were sent now. */
  countDraftTokens(request: { chatId: string; text: string }): Promise<DraftTokenCount>;
}

/** Quantization lab: bounds of a comparison and of a user's evaluation text. */
export const LAB_MAX_VARIANTS = 12;
export const LAB_MAX_TEXT_CHARS = 2_000_000;
export const LAB_CONTEXT_SIZES = [64, 128, 256, 512, 1024, 2048, 4096] as const;

// ---- Large texts: sent in parts, so no one message passes the WebSocket's 4 MiB limit ------
/**
 * The most characters one message carries of a text: 1.5 MiB of JSON even when every
 * character is escaped as \uXXXX. A longer text goes by startTextUpload / appendTextUpload.
 */
export const TEXT_PART_MAX_CHARS = 262_144;

// ---- Load settings per model: GPU layers and context size ---------------------------------

/** More layers than any GGUF model has; llama.cpp uses at most the model's own count. */
export const MAX_GPU_LAYERS = 1024;
export const MIN_LOAD_CONTEXT_SIZE = 256;
export const MAX_LOAD_CONTEXT_SIZE = 1 << 20;

export const gpuLayersChoiceSchema = z.union(
  [
    z.literal("auto"),
    z.number().int().min(0, "GPU layers cannot be negative").max(MAX_GPU_LAYERS, `GPU layers is at most ${MAX_GPU_LAYERS}`),
  ],
  { error: `GPU layers is "auto" or a whole number from 0 to ${MAX_GPU_LAYERS}` },
);

export const loadContextSizeSchema = z
  .number()
  .int("the context size is a whole number of tokens")
  .min(MIN_LOAD_CONTEXT_SIZE, `the context size is at least ${MIN_LOAD_CONTEXT_SIZE} tokens`)
  .max(MAX_LOAD_CONTEXT_SIZE, `the context size is at most ${MAX_LOAD_CONTEXT_SIZE} tokens`);

// ---- Load options beside GPU layers: flash attention, KV cache type, batch size, mmap/mlock, threads

export const MIN_BATCH_SIZE = 16;
export const MAX_BATCH_SIZE = 1 << 16;
/** A bound on thread overrides well above any machine Quanta runs on; more threads than cores only slows llama.cpp down. */
export const MAX_LOAD_THREADS = 256;

export const flashAttentionChoiceSchema = z.enum(["auto", "on", "off"], { error: 'flash attention is "auto", "on" or "off"' });
export const kvCacheTypeSchema = z.enum(KV_CACHE_TYPES, { error: `the KV cache type is one of ${KV_CACHE_TYPES.join(", ")}` });
export const batchSizeSchema = z
  .number()
  .int("the batch size is a whole number of tokens")
  .min(MIN_BATCH_SIZE, `the batch size is at least ${MIN_BATCH_SIZE} tokens`)
  .max(MAX_BATCH_SIZE, `the batch size is at most ${MAX_BATCH_SIZE} tokens`);
export const mmapChoiceSchema = z.enum(["auto", "on", "off"], { error: 'mmap is "auto", "on" or "off"' });
export const loadThreadsSchema = z
  .number()
  .int("a thread count is a whole number")
  .min(1, "a thread count is at least 1")
  .max(MAX_LOAD_THREADS, `a thread count is at most ${MAX_LOAD_THREADS}`);

/** The options of a load beside GPU layers and context size; null goes back to the default. */
export const loadOptionsSchema = z
  .object({
    flashAttention: flashAttentionChoiceSchema,
    kvCacheType: kvCacheTypeSchema,
    batchSize: batchSizeSchema.nullable(),
    mmap: mmapChoiceSchema,
    mlock: z.boolean(),
    threads: loadThreadsSchema.nullable(),
    batchThreads: loadThreadsSchema.nullable(),
  })
  .strict();

/** The options a fit estimate depends on (what the KV cache and compute buffers are sized by). */
const fitOptionsShape = {
  flashAttention: flashAttentionChoiceSchema.optional(),
  kvCacheType: kvCacheTypeSchema.optional(),
  batchSize: batchSizeSchema.nullable().optional(),
};

const loadRequestSchemas = {
  loadModel: z.tuple([
    z
      .object({
        modelId: id,
        gpuLayers: gpuLayersChoiceSchema.optional(),
        contextSize: loadContextSizeSchema.optional(),
        ...loadOptionsSchema.partial().shape,
      })
      .strict(),
  ]),
  getLoadChoice: z.tuple([z.object({ modelId: id }).strict()]),
  getLoadDefaults: z.tuple([z.object({ modelId: id }).strict()]),
  getLastModel: z.tuple([]),
} as const;

export type LoadOptions = z.infer<typeof loadOptionsSchema>;
/** The load options a fit estimate is sized by; left out: llama.cpp's defaults. */
export type FitOptions = {
  flashAttention?: LoadOptions["flashAttention"];
  kvCacheType?: LoadOptions["kvCacheType"];
  batchSize?: number | null;
};

// ---- Local API server: settings the renderer may change ------------------------------------

export const DEFAULT_API_PORT = 8150;

export const apiServerSettingsSchema = z
  .object({
    port: z.number().int("the port is a whole number").min(1, "the port is 1 to 65535").max(65535, "the port is 1 to 65535"),
    host: z
      .string()
      .min(1, "the bind address is empty")
      .max(255)
      .regex(/^[A-Za-z0-9.:%-]+$/, "the bind address is an IP address or a host name"),
    apiKey: z
      .string()
      .min(16, "an API key is at least 16 characters")
      .max(200)
      .regex(/^[\x21-\x7e]+$/, "an API key is printable ASCII without spaces"),
    requireKeyOnLoopback: z.boolean(),
    cors: z
      .object({
        enabled: z.boolean(),
        origins: z
          .array(
            z
              .string()
              .max(300)
              .regex(/^(\*|https?:\/\/[^\s/]+)$/, "an origin is * or scheme://host[:port]"),
          )
          .max(50),
      })
      .strict(),
    loadOnRequest: z.boolean(),
    idleUnloadMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .nullable(),
    startOnLaunch: z.boolean(),
  })
  .strict();

const apiServerRequestSchemas = {
  getApiServer: z.tuple([]),
  startApiServer: z.tuple([]),
  stopApiServer: z.tuple([]),
  configureApiServer: z.tuple([z.object({ settings: apiServerSettingsSchema.omit({ apiKey: true }).partial() }).strict()]),
  regenerateApiKey: z.tuple([]),
} as const;

/** The local API server (OpenAI- and Anthropic-compatible): "api.status" and "api.request" events. */
export interface ApiServerCoreApi {
  getApiServer(): Promise<ApiServerState>;
  /** Starts serving with the saved settings; a port in use fails with "address_in_use". */
  startApiServer(): Promise<ApiServerState>;
  stopApiServer(): Promise<ApiServerState>;
  /** Saves the settings; a running server restarts on them. */
  configureApiServer(request: { settings: Partial<Omit<z.infer<typeof apiServerSettingsSchema>, "apiKey">> }): Promise<ApiServerState>;
  /** A new random key; the old one stops working at once. */
  regenerateApiKey(): Promise<ApiServerState>;
}

export const requestSchemas = {
  ...apiServerRequestSchemas,
  ...loadRequestSchemas,
  ...chatRequestSchemas,
  ...composeRequestSchemas,
  getAppInfo: z.tuple([]),
  getEngineState: z.tuple([]),
  listModels: z.tuple([]),
  rescanModels: z.tuple([]),
  // Model library: inspector, hub downloads, folders
  inspectModel: z.tuple([z.object({ modelId: id }).strict()]),
  deleteModel: z.tuple([z.object({ modelId: id }).strict()]),
  addModelFolder: z.tuple([z.object({ path: z.string().min(1).max(4096) }).strict()]),
  removeModelFolder: z.tuple([z.object({ path: z.string().min(1).max(4096) }).strict()]),
  listModelFolders: z.tuple([]),
  getModelCatalog: z.tuple([]),
  getHubAddress: z.tuple([]),
  /** null goes back to the default; the core checks the address (http or https, no credentials). */
  setHubAddress: z.tuple([z.object({ url: z.string().max(500).nullable() }).strict()]),
  searchHub: z.tuple([z.object({ query: z.string().max(200) }).strict()]),
  listHubFiles: z.tuple([z.object({ repo: hubRepo }).strict()]),
  startDownload: z.tuple([z.object({ repo: hubRepo, path: z.string().min(1).max(500) }).strict()]),
  listDownloads: z.tuple([]),
  pauseDownload: z.tuple([z.object({ downloadId: id }).strict()]),
  resumeDownload: z.tuple([z.object({ downloadId: id }).strict()]),
  cancelDownload: z.tuple([z.object({ downloadId: id }).strict()]),
  estimateFit: z.tuple([
    z
      .object({
        modelId: id,
        contextSize: z
          .number()
          .int()
          .min(256)
          .max(1 << 21),
        ...fitOptionsShape,
      })
      .strict(),
  ]),
  importModels: z.tuple([z.object({ mode: z.enum(["copy", "move", "link"]) }).strict()]),
  revealModel: z.tuple([z.object({ modelId: id }).strict()]),
  estimateHubFit: z.tuple([
    z
      .object({
        repo: hubRepo,
        path: z.string().min(1).max(500),
        contextSize: z
          .number()
          .int()
          .min(256)
          .max(1 << 21),
      })
      .strict(),
  ]),
  unloadModel: z.tuple([]),
  listChats: z.tuple([]),
  createChat: z.tuple([]),
  getChat: z.tuple([z.object({ chatId: id }).strict()]),
  sendMessage: z.tuple([z.object({ chatId: id, text: messageText }).strict()]),
  stopGeneration: z.tuple([z.object({ chatId: id }).strict()]),
  getGenerationActivity: z.tuple([]),
  stopGenerationRequest: z.tuple([z.object({ requestId: id }).strict()]),
  watchHardware: z.tuple([z.object({ intervalMs: z.number().int().min(MIN_SAMPLE_INTERVAL_MS).max(MAX_SAMPLE_INTERVAL_MS) }).strict()]),
  unwatchHardware: z.tuple([]),
  getComputeCost: z.tuple([]),
  probeMemoryBandwidth: z.tuple([]),
  // Quantization lab
  getQuantizePlan: z.tuple([z.object({ modelId: id }).strict()]),
  startQuantize: z.tuple([
    z
      .object({
        modelId: id,
        types: z.array(z.string().min(1).max(32)).min(1).max(20),
        destination: z.enum(["beside", "models"]).optional(),
      })
      .strict(),
  ]),
  cancelQuantize: z.tuple([z.object({ jobId: id }).strict()]),
  listQuantizeJobs: z.tuple([]),
  listEvalTexts: z.tuple([]),
  addEvalText: z.tuple([
    z.union([
      z
        .object({
          title: z.string().trim().min(1).max(120),
          text: z
            .string()
            .max(TEXT_PART_MAX_CHARS, `a text sent whole is at most ${TEXT_PART_MAX_CHARS} characters; send a longer one as an upload`),
        })
        .strict(),
      z.object({ title: z.string().trim().min(1).max(120), uploadId: id }).strict(),
    ]),
  ]),
  startTextUpload: z.tuple([
    z
      .object({ chars: z.number().int().min(1).max(LAB_MAX_TEXT_CHARS, `an evaluation text is at most ${LAB_MAX_TEXT_CHARS} characters`) })
      .strict(),
  ]),
  appendTextUpload: z.tuple([
    z
      .object({ uploadId: id, text: z.string().min(1).max(TEXT_PART_MAX_CHARS, `one part is at most ${TEXT_PART_MAX_CHARS} characters`) })
      .strict(),
  ]),
  startComparison: z.tuple([
    z
      .object({
        modelIds: z.array(id).min(2, "choose at least two variants").max(LAB_MAX_VARIANTS),
        textId: id,
        contextSize: z
          .number()
          .int()
          .min(16)
          .max(1 << 16),
        qualityOnly: z.boolean().optional(),
      })
      .strict(),
  ]),
  cancelComparison: z.tuple([z.object({ runId: id }).strict()]),
  startSideBySide: z.tuple([
    z
      .object({
        modelIds: z.array(id).min(2, "choose at least two variants").max(LAB_MAX_VARIANTS),
        prompt: z
          .string()
          .max(20_000)
          .refine((text) => text.trim() !== "", "the prompt is empty"),
        maxTokens: z.number().int().min(1).max(512),
      })
      .strict(),
  ]),
  listLabRuns: z.tuple([]),
  getLabRun: z.tuple([z.object({ runId: id }).strict()]),
  deleteLabRun: z.tuple([z.object({ runId: id }).strict()]),
  getReferenceCache: z.tuple([]),
  clearReferenceCache: z.tuple([]),
  // Lab: evaluation texts counted and deleted
  countEvalTextTokens: z.tuple([z.object({ modelIds: z.array(id).min(1).max(LAB_MAX_VARIANTS), textId: id }).strict()]),
  deleteEvalText: z.tuple([z.object({ textId: id }).strict()]),
} as const;

export interface SendMessageResult {
  userMessage: ChatMessage;
  assistantMessageId: string;
}

/** What the core serves to the renderer. Every method's arguments match requestSchemas. */
export interface CoreApi extends ChatCoreApi, ApiServerCoreApi, ComposeCoreApi {
  getAppInfo(): Promise<AppInfo>;
  getEngineState(): Promise<EngineState>;
  listModels(): Promise<ModelSummary[]>;
  rescanModels(): Promise<ModelSummary[]>;
  // ---- Model library ----
  /** Everything a model's GGUF header says (the weights are never read). */
  inspectModel(request: { modelId: string }): Promise<ModelInspection>;
  /** Deletes a model's files; only models in Quanta's own folder (ModelSummary.owned). */
  deleteModel(request: { modelId: string }): Promise<ModelSummary[]>;
  /** Adds a folder of the user's to the library (checked by the core: it must exist). */
  addModelFolder(request: { path: string }): Promise<ModelSummary[]>;
  removeModelFolder(request: { path: string }): Promise<ModelSummary[]>;
  /** The folders searched for models (other apps' folders aside), the ones the user added marked. */
  listModelFolders(): Promise<ModelFolder[]>;
  getModelCatalog(): Promise<CatalogEntry[]>;
  getHubAddress(): Promise<HubAddress>;
  /** Sets the hub's address (null: Hugging Face); QUANTA_HUB_URL, when set, still wins. */
  setHubAddress(request: { url: string | null }): Promise<HubAddress>;
  searchHub(request: { query: string }): Promise<HubRepository[]>;
  listHubFiles(request: { repo: string }): Promise<HubRepositoryFiles>;
  /** Starts downloading one model of a repository (every part of a split one); progress comes as "download" events. */
  startDownload(request: { repo: string; path: string }): Promise<DownloadJob>;
  listDownloads(): Promise<DownloadJob[]>;
  pauseDownload(request: { downloadId: string }): Promise<void>;
  resumeDownload(request: { downloadId: string }): Promise<void>;
  cancelDownload(request: { downloadId: string }): Promise<void>;
  /** Will the model fit at this context size (weights plus KV cache against free RAM and VRAM)? Asks the engine. */
  estimateFit(request: { modelId: string; contextSize: number } & FitOptions): Promise<FitEstimate>;
  /**
   * Desktop only: the main process opens its file dialog, and the chosen GGUF files are copied,
   * moved or linked into Quanta's models folder. An empty list when the dialog was cancelled.
   */
  importModels(request: { mode: "copy" | "move" | "link" }): Promise<ModelSummary[]>;
  /** Desktop only: shows the model's file in the system's file manager. */
  revealModel(request: { modelId: string }): Promise<void>;
  /** Will a model on the hub fit? Its header is read over HTTP (a few MB), not the weights. */
  estimateHubFit(request: { repo: string; path: string; contextSize: number }): Promise<HubFitEstimate>;
  /**
   * Loads a model. gpuLayers and contextSize, when given, are remembered for this model;
   * when left out, the remembered ones are used (else automatic layers, default context).
   */
  loadModel(request: { modelId: string; gpuLayers?: GpuLayersChoice; contextSize?: number } & Partial<LoadOptions>): Promise<LoadedModel>;
  /** What the model's next load will use unless told otherwise. */
  getLoadChoice(request: { modelId: string }): Promise<ModelLoadChoice>;
  /** What the model's choices fall back to (the calibrated thread counts…) and the bounds they are checked against. */
  getLoadDefaults(request: { modelId: string }): Promise<LoadDefaults>;
  /** The model loaded most recently (remembered in the data folder), so pickers can offer it first. */
  getLastModel(): Promise<{ modelId: string | null }>;
  unloadModel(): Promise<void>;
  listChats(): Promise<ChatSummary[]>;
  createChat(): Promise<Chat>;
  getChat(request: { chatId: string }): Promise<Chat>;
  sendMessage(request: { chatId: string; text: string }): Promise<SendMessageResult>;
  stopGeneration(request: { chatId: string }): Promise<void>;
  /** What the one engine generates now (a conversation's reply, an API request) and how many jobs wait. */
  getGenerationActivity(): Promise<GenerationActivity>;
  /** Stops the engine's job with this request id, waiting or running, whoever started it (any tab, an API client). */
  stopGenerationRequest(request: { requestId: string }): Promise<void>;
  /**
   * Starts hardware samples for this renderer ("monitor.sample" events) at the given
   * interval and returns the recorded window. The core samples only while someone watches.
   */
  watchHardware(request: { intervalMs: number }): Promise<MonitorHistory>;
  unwatchHardware(): Promise<void>;
  /** null when no model is loaded. */
  getComputeCost(): Promise<ComputeCost | null>;
  /** Measures memory bandwidth (a second or two) and remembers it for this machine. */
  probeMemoryBandwidth(): Promise<BandwidthProbe>;
  // Quantization lab
  /** The types the model can be quantized to, with predicted sizes (or why it cannot be). */
  getQuantizePlan(request: { modelId: string }): Promise<QuantizePlan>;
  /**
   * Queues one job per type; jobs run one at a time in an engine process of their own ("lab.quantize" events).
   * `destination` is one of the plan's destinations' kinds (default: the plan's first).
   */
  startQuantize(request: { modelId: string; types: string[]; destination?: "beside" | "models" }): Promise<QuantizeJob[]>;
  cancelQuantize(request: { jobId: string }): Promise<void>;
  listQuantizeJobs(): Promise<QuantizeJob[]>;
  listEvalTexts(): Promise<EvalText[]>;
  /** A short text sent whole, or a long one sent before as an upload. */
  addEvalText(request: { title: string; text: string } | { title: string; uploadId: string }): Promise<EvalText>;
  /** Opens an upload of a text of this many characters (at most LAB_MAX_TEXT_CHARS). */
  startTextUpload(request: { chars: number }): Promise<{ uploadId: string; partChars: number }>;
  /** Adds the next part (at most TEXT_PART_MAX_CHARS characters), in order. */
  appendTextUpload(request: { uploadId: string; text: string }): Promise<{ receivedChars: number }>;
  /** Measures the variants ("lab.progress" events, then "lab.run") and saves the run. */
  /**
   * Refused before anything runs when the text has fewer tokens than the context (error
   * invalid_request, reason "text_too_short", params neededTokens and textTokens).
   * `qualityOnly` skips the speed tests (the speeds are then null).
   */
  startComparison(request: { modelIds: string[]; textId: string; contextSize: number; qualityOnly?: boolean }): Promise<{ runId: string }>;
  cancelComparison(request: { runId: string }): Promise<void>;
  /** One prompt through each variant, reference first ("lab.stream" events, then "lab.sideBySide"). */
  startSideBySide(request: { modelIds: string[]; prompt: string; maxTokens: number }): Promise<{ id: string }>;
  listLabRuns(): Promise<LabRunSummary[]>;
  getLabRun(request: { runId: string }): Promise<LabRun>;
  /** Deletes a saved run for good. */
  deleteLabRun(request: { runId: string }): Promise<void>;
  /** The reference distributions the lab keeps between comparisons: bytes, entries, limit. */
  getReferenceCache(): Promise<ReferenceCacheUsage>;
  /** Deletes them all (each is computed again when next needed). */
  clearReferenceCache(): Promise<void>;
  /** The text's length in tokens, by the tokenizer of the reference among these variants (the one with most bits per weight). */
  countEvalTextTokens(request: { modelIds: string[]; textId: string }): Promise<{ tokens: number; modelId: string }>;
  /** Deletes an evaluation text the user added; built-in texts are refused. */
  deleteEvalText(request: { textId: string }): Promise<void>;
}

export type CoreMethod = keyof CoreApi;

// Each schema must accept exactly the method's parameters; a mismatch fails the typecheck.
type SchemaArgs = { [K in CoreMethod]: z.infer<(typeof requestSchemas)[K]> };
type MethodArgs = { [K in CoreMethod]: Parameters<CoreApi[K]> };
const schemasMatchMethods: SchemaArgs extends MethodArgs ? (MethodArgs extends SchemaArgs ? true : false) : false = true;
// eslint-disable-next-line @typescript-eslint/no-meaningless-void-operator -- the check works at compile time only; this marks the constant as used
void schemasMatchMethods;

/** What the renderer serves to the core: one event sink. */
export interface RendererApi {
  event(event: CoreEvent): void;
}

export const RENDERER_EVENT_NAMES = ["event"] as const satisfies readonly (keyof RendererApi)[];
