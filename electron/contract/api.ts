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
} from "./types.js";

const id = z.string().min(1).max(128).regex(/^[A-Za-z0-9_-]+$/, "an id is letters, digits, - and _");

export const MAX_MESSAGE_CHARS = 200_000;

/** Hardware sampling runs from 4 Hz to 0.2 Hz; 1 Hz by default. */
export const MIN_SAMPLE_INTERVAL_MS = 250;
export const MAX_SAMPLE_INTERVAL_MS = 5000;
export const DEFAULT_SAMPLE_INTERVAL_MS = 1000;
/** The monitor keeps the last 10 minutes. */
export const MONITOR_WINDOW_MS = 10 * 60 * 1000;

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
