// The one RPC contract between renderer and core: the methods the renderer may call, the
// zod schema that validates each call's arguments on arrival, and the events it receives.

import { z } from "zod";
import type {
  AppInfo,
  Chat,
  ChatMessage,
  ChatSummary,
  CoreEvent,
  EngineState,
  LoadedModel,
  ModelSummary,
} from "./types.js";

const id = z.string().min(1).max(128).regex(/^[A-Za-z0-9_-]+$/, "an id is letters, digits, - and _");

export const MAX_MESSAGE_CHARS = 200_000;

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
