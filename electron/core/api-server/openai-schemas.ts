// zod schemas of OpenAI's request bodies, and of the sampling fields the three endpoints share.
// Every field is checked here, before anything reaches the queue or the engine.

import { z } from "zod";
import { MAX_STOP_STRINGS, MAX_TOP_LOGPROBS, type ApiSampling } from "../../engine/protocol.js";

export const MAX_MESSAGES = 10_000;
const MAX_TEXT = 4_000_000;

const textPart = z.object({ type: z.literal("text"), text: z.string().max(MAX_TEXT) });
const content = z.union([z.string().max(MAX_TEXT), z.array(textPart, { error: "content parts must be text parts" }).max(1000)]);

const toolCall = z.object({
  id: z.string().min(1).max(128),
  type: z.literal("function"),
  function: z.object({ name: z.string().min(1).max(64), arguments: z.string().max(MAX_TEXT) }),
});

const message = z.discriminatedUnion(
  "role",
  [
    z.object({ role: z.literal("system"), content, name: z.string().max(64).optional() }),
    z.object({ role: z.literal("developer"), content, name: z.string().max(64).optional() }),
    z.object({ role: z.literal("user"), content, name: z.string().max(64).optional() }),
    z.object({
      role: z.literal("assistant"),
      content: content.nullable().optional(),
      name: z.string().max(64).optional(),
      tool_calls: z.array(toolCall).max(64).optional(),
      refusal: z.string().nullable().optional(),
    }),
    z.object({ role: z.literal("tool"), content, tool_call_id: z.string().min(1).max(128) }),
  ],
  { error: "role must be system, developer, user, assistant or tool" },
);

export type OpenAiMessage = z.infer<typeof message>;

const functionName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "a function name is 1 to 64 letters, digits, _ or -");

const stop = z
  .union([z.string().min(1).max(500), z.array(z.string().min(1).max(500)).max(MAX_STOP_STRINGS)])
  .nullable()
  .optional();

/** Fields shared by chat and text completions. */
const samplingFields = {
  model: z.string().min(1).max(300).optional(),
  max_tokens: z.number().int().min(1).max(1_000_000).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  top_k: z.number().int().min(0).max(1000).nullable().optional(),
  min_p: z.number().min(0).max(1).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  stop,
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
  repeat_penalty: z.number().min(0.5).max(3).nullable().optional(),
  logit_bias: z
    .record(z.string().regex(/^\d{1,9}$/, "logit_bias keys are token ids"), z.number().min(-100).max(100))
    .nullable()
    .optional(),
  n: z.number().int().min(1).max(1, "only n: 1 is supported (one choice per request)").nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
  user: z.string().max(500).optional(),
};

export const chatCompletionSchema = z.object({
  ...samplingFields,
  messages: z.array(message).min(1, "at least one message is needed").max(MAX_MESSAGES),
  max_completion_tokens: z.number().int().min(1).max(1_000_000).nullable().optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().min(0).max(MAX_TOP_LOGPROBS).nullable().optional(),
  response_format: z
    .discriminatedUnion("type", [
      z.object({ type: z.literal("text") }),
      z.object({ type: z.literal("json_object") }),
      z.object({
        type: z.literal("json_schema"),
        json_schema: z.object({
          name: z.string().min(1).max(64),
          description: z.string().max(10_000).optional(),
          schema: z.record(z.string(), z.unknown()).optional(),
          strict: z.boolean().nullable().optional(),
        }),
      }),
    ])
    .optional(),
  tools: z
    .array(
      z.object({
        type: z.literal("function"),
        function: z.object({
          name: functionName,
          description: z.string().max(10_000).optional(),
          parameters: z.record(z.string(), z.unknown()).optional(),
          strict: z.boolean().nullable().optional(),
        }),
      }),
    )
    .max(128)
    .optional(),
  tool_choice: z
    .union([z.enum(["none", "auto", "required"]), z.object({ type: z.literal("function"), function: z.object({ name: functionName }) })])
    .optional(),
  parallel_tool_calls: z.boolean().optional(),
});

export type ChatCompletionBody = z.infer<typeof chatCompletionSchema>;

export const completionSchema = z.object({
  ...samplingFields,
  prompt: z.union([z.string().max(MAX_TEXT), z.array(z.string().max(MAX_TEXT)).length(1, "only one prompt per request is supported")]),
  echo: z.boolean().nullable().optional(),
  logprobs: z.number().int().min(0).max(5).nullable().optional(),
  best_of: z.number().int().min(1).max(1, "only best_of: 1 is supported").nullable().optional(),
  suffix: z.null({ error: "suffix (fill-in-the-middle) is not supported" }).optional(),
});

export type CompletionBody = z.infer<typeof completionSchema>;

export const embeddingSchema = z.object({
  model: z.string().min(1).max(300).optional(),
  input: z.union([
    z.string().max(MAX_TEXT),
    z
      .array(z.string().max(MAX_TEXT), { error: "input is a string or an array of strings (token arrays are not supported)" })
      .min(1)
      .max(2048),
  ]),
  encoding_format: z.enum(["float", "base64"]).optional(),
  dimensions: z.undefined({ error: "dimensions is not supported: the model's own size is used" }).optional(),
  user: z.string().max(500).optional(),
});

/** The sampling values a request asks for, with llama-server's defaults for what it leaves out. */
export function samplingFrom(
  body: {
    max_tokens?: number | null | undefined;
    temperature?: number | null | undefined;
    top_p?: number | null | undefined;
    top_k?: number | null | undefined;
    min_p?: number | null | undefined;
    seed?: number | null | undefined;
    frequency_penalty?: number | null | undefined;
    presence_penalty?: number | null | undefined;
    repeat_penalty?: number | null | undefined;
  },
  defaultMaxTokens: number,
): ApiSampling {
  return {
    temperature: body.temperature ?? 0.8,
    topK: body.top_k ?? 40,
    topP: body.top_p ?? 0.95,
    minP: body.min_p ?? 0.05,
    // llama.cpp takes a 32-bit seed; larger or negative ones are folded into it.
    seed: body.seed === null || body.seed === undefined ? null : ((body.seed % 2 ** 32) + 2 ** 32) % 2 ** 32,
    maxTokens: body.max_tokens ?? defaultMaxTokens,
    repeatPenalty: body.repeat_penalty ?? 1,
    frequencyPenalty: body.frequency_penalty ?? 0,
    presencePenalty: body.presence_penalty ?? 0,
  };
}

export function stopList(value: string | string[] | null | undefined): string[] {
  if (value === null || value === undefined) return [];
  return typeof value === "string" ? [value] : value;
}

export function logitBiasList(value: Record<string, number> | null | undefined): Array<[number, number]> {
  return Object.entries(value ?? {}).map(([token, bias]) => [Number(token), bias]);
}

export function contentText(value: string | Array<{ text: string }> | null | undefined): string {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : value.map((part) => part.text).join("");
}
