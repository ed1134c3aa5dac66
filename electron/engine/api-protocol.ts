// The engine's calls for the local API server: one completion (a chat with tools, grammar and
// logprobs, or a raw prompt) and embeddings. The core has already translated OpenAI's or
// Anthropic's request into this shape; the engine validates it again on arrival.

import { z } from "zod";

export const MAX_STOP_STRINGS = 16;
export const MAX_TOP_LOGPROBS = 20;

const apiSamplingSchema = z
  .object({
    temperature: z.number().min(0).max(5),
    topK: z.number().int().min(0).max(1000),
    topP: z.number().min(0).max(1),
    minP: z.number().min(0).max(1),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .nullable(),
    maxTokens: z.number().int().min(1).max(1_000_000),
    /** llama.cpp's repeat penalty (1: off), and OpenAI's frequency and presence penalties (0: off). */
    repeatPenalty: z.number().min(0.5).max(3),
    frequencyPenalty: z.number().min(-2).max(2),
    presencePenalty: z.number().min(-2).max(2),
  })
  .strict();

export type ApiSampling = z.infer<typeof apiSamplingSchema>;

const toolCallSchema = z
  .object({ id: z.string().min(1).max(128), name: z.string().min(1).max(128), arguments: z.string().max(1_000_000) })
  .strict();

export type ApiToolCall = z.infer<typeof toolCallSchema>;

export const apiMessageSchema = z
  .object({
    role: z.enum(["system", "user", "assistant", "tool"]),
    text: z.string(),
    /** An assistant turn's calls; each is answered by a later "tool" message with its id. */
    toolCalls: z.array(toolCallSchema).max(64).optional(),
    toolCallId: z.string().max(128).optional(),
  })
  .strict();

export type ApiMessage = z.infer<typeof apiMessageSchema>;

const toolSchema = z
  .object({
    name: z.string().min(1).max(64),
    description: z.string().max(10_000).optional(),
    /** A JSON schema, given to node-llama-cpp's grammar (it refuses what it cannot enforce). */
    parameters: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type ApiTool = z.infer<typeof toolSchema>;

export const apiCompletionRequestSchema = z
  .object({
    requestId: z.string().min(1),
    input: z.discriminatedUnion("kind", [
      z
        .object({
          kind: z.literal("chat"),
          messages: z.array(apiMessageSchema).min(1),
          tools: z.array(toolSchema).max(128).optional(),
          toolChoice: z.union([z.enum(["auto", "none", "required"]), z.object({ name: z.string().min(1).max(64) }).strict()]).optional(),
        })
        .strict(),
      z.object({ kind: z.literal("text"), prompt: z.string() }).strict(),
    ]),
    sampling: apiSamplingSchema,
    stop: z.array(z.string().min(1).max(500)).max(MAX_STOP_STRINGS),
    /** Token id → bias added to its logit; -100 or less bans the token. */
    logitBias: z.array(z.tuple([z.number().int().min(0), z.number().min(-100).max(100)])).max(1024),
    grammar: z
      .union([
        z.object({ kind: z.literal("json") }).strict(),
        z.object({ kind: z.literal("json_schema"), schema: z.record(z.string(), z.unknown()) }).strict(),
      ])
      .nullable(),
    /** null: no log probabilities; else how many alternatives per token (0 to 20). */
    logprobs: z
      .object({ top: z.number().int().min(0).max(MAX_TOP_LOGPROBS) })
      .strict()
      .nullable(),
  })
  .strict();

export type ApiCompletionRequest = z.infer<typeof apiCompletionRequestSchema>;

export interface TokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top: Array<{ token: string; logprob: number; bytes: number[] }>;
}

/** The prompt's size in tokens, and how many of them were already in the context. */
export interface PromptUsage {
  tokens: number;
  cached: number;
}

export type ApiFinishReason = "stop" | "length" | "tool_calls" | "aborted";

export interface ApiCompletionResult {
  text: string;
  toolCalls: ApiToolCall[];
  finishReason: ApiFinishReason;
  /** The request's own stop sequence that ended the reply (not the chat template's); null when none did. */
  stopSequence: string | null;
  promptTokens: number;
  /** Prompt tokens that were already in the context from the previous request, not evaluated again. */
  cachedTokens: number;
  completionTokens: number;
  timeToFirstTokenMs: number;
  /** Generation speed, first token excluded; null when fewer than two tokens were generated. */
  tokensPerSecond: number | null;
  logprobs: TokenLogprob[] | null;
  chatTemplate: string;
}

export const apiEmbedRequestSchema = z.object({ inputs: z.array(z.string().max(1_000_000)).min(1).max(2048) }).strict();

export interface ApiEmbedResult {
  vectors: number[][];
  promptTokens: number;
}

export const apiEngineRequestSchemas = {
  complete: z.tuple([apiCompletionRequestSchema]),
  embed: z.tuple([apiEmbedRequestSchema]),
} as const;

/** The API server's calls on the engine. */
export interface ApiEngineApi {
  complete(request: ApiCompletionRequest): Promise<ApiCompletionResult>;
  embed(request: z.infer<typeof apiEmbedRequestSchema>): Promise<ApiEmbedResult>;
}

/** Log probabilities of the tokens in one delta (on the delta event, only when asked for). */
export const tokenLogprobSchema = z
  .object({
    token: z.string(),
    logprob: z.number(),
    bytes: z.array(z.number().int()),
    top: z.array(z.object({ token: z.string(), logprob: z.number(), bytes: z.array(z.number().int()) }).strict()),
  })
  .strict();
