// The one RPC contract between renderer and core: the methods the renderer may call, the
// zod schema that validates each call's arguments on arrival, and the events it receives.

import { z } from "zod";
import type {
  AppInfo,
  BandwidthProbe,
  Chat,
  ChatMessage,
  ChatSummary,
  ComputeCost,
  CoreEvent,
  EngineState,
  LoadedModel,
  ModelSummary,
  MonitorHistory,
  EvalText,
  LabRun,
  LabRunSummary,
  QuantizeJob,
  QuantizePlan,
} from "./types.js";

const id = z.string().min(1).max(128).regex(/^[A-Za-z0-9_-]+$/, "an id is letters, digits, - and _");

export const MAX_MESSAGE_CHARS = 200_000;

/** Hardware sampling runs from 4 Hz to 0.2 Hz; 1 Hz by default. */
export const MIN_SAMPLE_INTERVAL_MS = 250;
export const MAX_SAMPLE_INTERVAL_MS = 5000;
export const DEFAULT_SAMPLE_INTERVAL_MS = 1000;
/** The monitor keeps the last 10 minutes. */
export const MONITOR_WINDOW_MS = 10 * 60 * 1000;

/** Quantization lab: bounds of a comparison and of a user's evaluation text. */
export const LAB_MAX_VARIANTS = 12;
export const LAB_MAX_TEXT_CHARS = 2_000_000;
export const LAB_CONTEXT_SIZES = [64, 128, 256, 512, 1024, 2048, 4096] as const;

export const requestSchemas = {
  getAppInfo: z.tuple([]),
  getEngineState: z.tuple([]),
  listModels: z.tuple([]),
  rescanModels: z.tuple([]),
  loadModel: z.tuple([z.object({ modelId: id }).strict()]),
  unloadModel: z.tuple([]),
  listChats: z.tuple([]),
  createChat: z.tuple([]),
  getChat: z.tuple([z.object({ chatId: id }).strict()]),
  sendMessage: z.tuple([
    z
      .object({
        chatId: id,
        text: z
          .string()
          .max(MAX_MESSAGE_CHARS, `a message is at most ${MAX_MESSAGE_CHARS} characters`)
          .refine((text) => text.trim() !== "", "the message is empty"),
      })
      .strict(),
  ]),
  stopGeneration: z.tuple([z.object({ chatId: id }).strict()]),
  watchHardware: z.tuple([
    z.object({ intervalMs: z.number().int().min(MIN_SAMPLE_INTERVAL_MS).max(MAX_SAMPLE_INTERVAL_MS) }).strict(),
  ]),
  unwatchHardware: z.tuple([]),
  getComputeCost: z.tuple([]),
  probeMemoryBandwidth: z.tuple([]),
  // Quantization lab
  getQuantizePlan: z.tuple([z.object({ modelId: id }).strict()]),
  startQuantize: z.tuple([z.object({ modelId: id, types: z.array(z.string().min(1).max(32)).min(1).max(20) }).strict()]),
  cancelQuantize: z.tuple([z.object({ jobId: id }).strict()]),
  listQuantizeJobs: z.tuple([]),
  listEvalTexts: z.tuple([]),
  addEvalText: z.tuple([
    z
      .object({
        title: z.string().trim().min(1).max(120),
        text: z.string().max(LAB_MAX_TEXT_CHARS, `an evaluation text is at most ${LAB_MAX_TEXT_CHARS} characters`),
      })
      .strict(),
  ]),
  startComparison: z.tuple([
    z
      .object({
        modelIds: z.array(id).min(2, "choose at least two variants").max(LAB_MAX_VARIANTS),
        textId: id,
        contextSize: z.number().int().min(16).max(1 << 16),
      })
      .strict(),
  ]),
  cancelComparison: z.tuple([z.object({ runId: id }).strict()]),
  startSideBySide: z.tuple([
    z
      .object({
        modelIds: z.array(id).min(2, "choose at least two variants").max(LAB_MAX_VARIANTS),
        prompt: z.string().max(20_000).refine((text) => text.trim() !== "", "the prompt is empty"),
        maxTokens: z.number().int().min(1).max(512),
      })
      .strict(),
  ]),
  listLabRuns: z.tuple([]),
  getLabRun: z.tuple([z.object({ runId: id }).strict()]),
} as const;

export interface SendMessageResult {
  userMessage: ChatMessage;
  assistantMessageId: string;
}

/** What the core serves to the renderer. Every method's arguments match requestSchemas. */
export interface CoreApi {
  getAppInfo(): Promise<AppInfo>;
  getEngineState(): Promise<EngineState>;
  listModels(): Promise<ModelSummary[]>;
  rescanModels(): Promise<ModelSummary[]>;
  loadModel(request: { modelId: string }): Promise<LoadedModel>;
  unloadModel(): Promise<void>;
  listChats(): Promise<ChatSummary[]>;
  createChat(): Promise<Chat>;
  getChat(request: { chatId: string }): Promise<Chat>;
  sendMessage(request: { chatId: string; text: string }): Promise<SendMessageResult>;
  stopGeneration(request: { chatId: string }): Promise<void>;
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
  /** Queues one job per type; jobs run one at a time in an engine process of their own ("lab.quantize" events). */
  startQuantize(request: { modelId: string; types: string[] }): Promise<QuantizeJob[]>;
  cancelQuantize(request: { jobId: string }): Promise<void>;
  listQuantizeJobs(): Promise<QuantizeJob[]>;
  listEvalTexts(): Promise<EvalText[]>;
  addEvalText(request: { title: string; text: string }): Promise<EvalText>;
  /** Measures the variants ("lab.progress" events, then "lab.run") and saves the run. */
  startComparison(request: { modelIds: string[]; textId: string; contextSize: number }): Promise<{ runId: string }>;
  cancelComparison(request: { runId: string }): Promise<void>;
  /** One prompt through each variant, reference first ("lab.stream" events, then "lab.sideBySide"). */
  startSideBySide(request: { modelIds: string[]; prompt: string; maxTokens: number }): Promise<{ id: string }>;
  listLabRuns(): Promise<LabRunSummary[]>;
  getLabRun(request: { runId: string }): Promise<LabRun>;
}

export type CoreMethod = keyof CoreApi;

// Each schema must accept exactly the method's parameters; a mismatch fails the typecheck.
type SchemaArgs = { [K in CoreMethod]: z.infer<(typeof requestSchemas)[K]> };
type MethodArgs = { [K in CoreMethod]: Parameters<CoreApi[K]> };
const schemasMatchMethods: SchemaArgs extends MethodArgs
  ? MethodArgs extends SchemaArgs
    ? true
    : false
  : false = true;
void schemasMatchMethods;

/** What the renderer serves to the core: one event sink. */
export interface RendererApi {
  event(event: CoreEvent): void;
}

export const RENDERER_EVENT_NAMES = ["event"] as const satisfies readonly (keyof RendererApi)[];
