// POST /v1/messages: Anthropic's Messages API (system, text blocks, tools with tool_use and
// tool_result blocks) and its streaming events: message_start, content_block_start/delta/stop,
// message_delta with stop_reason and usage, message_stop.

import { z } from "zod";
import { MAX_STOP_STRINGS, type ApiCompletionRequest, type ApiCompletionResult, type ApiMessage } from "../../engine/protocol.js";
import { completionRecord, type EndpointContext, parseBody, pieces, responseId, runOptions } from "./endpoint.js";
import { errorBody, toApiError } from "./errors.js";
import { sendJson } from "./http-io.js";
import { samplingFrom } from "./openai-schemas.js";
import { EventStream } from "./sse.js";

const MAX_TEXT = 4_000_000;
const textBlock = z.object({ type: z.literal("text"), text: z.string().max(MAX_TEXT) });
const toolUseBlock = z.object({
  type: z.literal("tool_use"),
  id: z.string().min(1).max(128),
  name: z.string().min(1).max(64),
  input: z.record(z.string(), z.unknown()),
});
const toolResultBlock = z.object({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1).max(128),
  content: z.union([z.string().max(MAX_TEXT), z.array(textBlock).max(1000)]).optional(),
  is_error: z.boolean().optional(),
});
const block = z.discriminatedUnion("type", [textBlock, toolUseBlock, toolResultBlock], {
  error: "a content block is text, tool_use or tool_result (images and documents are not supported)",
});

export const messagesSchema = z.object({
  model: z.string().min(1).max(300),
  max_tokens: z.number().int().min(1).max(1_000_000),
  messages: z
    .array(z.object({ role: z.enum(["user", "assistant"]), content: z.union([z.string().max(MAX_TEXT), z.array(block).max(1000)]) }))
    .min(1)
    .max(10_000),
  system: z.union([z.string().max(MAX_TEXT), z.array(textBlock).max(1000)]).optional(),
  stop_sequences: z.array(z.string().min(1).max(500)).max(MAX_STOP_STRINGS).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).max(1000).optional(),
  stream: z.boolean().optional(),
  tools: z
    .array(
      z.object({
        name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "a tool name is 1 to 64 letters, digits, _ or -"),
        description: z.string().max(10_000).optional(),
        input_schema: z.record(z.string(), z.unknown()),
      }),
    )
    .max(128)
    .optional(),
  tool_choice: z
    .discriminatedUnion("type", [
      z.object({ type: z.literal("auto") }),
      z.object({ type: z.literal("any") }),
      z.object({ type: z.literal("none") }),
      z.object({ type: z.literal("tool"), name: z.string().min(1).max(64) }),
    ])
    .optional(),
  metadata: z.object({ user_id: z.string().max(500).nullable().optional() }).optional(),
});

type MessagesBody = z.infer<typeof messagesSchema>;

function blocksText(content: string | Array<{ text: string }> | undefined): string {
  if (content === undefined) return "";
  return typeof content === "string" ? content : content.map((part) => part.text).join("");
}

function toMessages(body: MessagesBody): ApiMessage[] {
  const messages: ApiMessage[] = [];
  const system = blocksText(body.system);
  if (system !== "") messages.push({ role: "system", text: system });
  for (const message of body.messages) {
    if (typeof message.content === "string") {
      messages.push({ role: message.role, text: message.content });
      continue;
    }
    const text = message.content.flatMap((item) => (item.type === "text" ? [item.text] : [])).join("");
    if (message.role === "assistant") {
      const calls = message.content.flatMap((item) =>
        item.type === "tool_use" ? [{ id: item.id, name: item.name, arguments: JSON.stringify(item.input) }] : [],
      );
      messages.push({ role: "assistant", text, ...(calls.length > 0 ? { toolCalls: calls } : {}) });
      continue;
    }
    for (const item of message.content) {
      if (item.type === "tool_result") {
        const result = blocksText(item.content);
        messages.push({ role: "tool", text: item.is_error === true ? `Error: ${result}` : result, toolCallId: item.tool_use_id });
      }
    }
    if (text !== "") messages.push({ role: "user", text });
  }
  return messages;
}

function messagesRequest(body: MessagesBody): Omit<ApiCompletionRequest, "requestId"> {
  const choice = body.tool_choice;
  return {
    input: {
      kind: "chat",
      messages: toMessages(body),
      ...(body.tools && body.tools.length > 0
        ? {
            tools: body.tools.map((tool) => ({
              name: tool.name,
              ...(tool.description === undefined ? {} : { description: tool.description }),
              parameters: tool.input_schema,
            })),
          }
        : {}),
      ...(choice === undefined
        ? {}
        : { toolChoice: choice.type === "any" ? "required" : choice.type === "tool" ? { name: choice.name } : choice.type }),
    },
    sampling: samplingFrom(body, body.max_tokens),
    stop: body.stop_sequences ?? [],
    logitBias: [],
    grammar: null,
    logprobs: null,
  };
}

function stopReason(result: ApiCompletionResult): "end_turn" | "max_tokens" | "tool_use" | "stop_sequence" {
  if (result.toolCalls.length > 0) return "tool_use";
  if (result.stopSequence !== null) return "stop_sequence";
  return result.finishReason === "length" ? "max_tokens" : "end_turn";
}

function toolInput(argumentsText: string): unknown {
  try {
    return JSON.parse(argumentsText) as unknown;
  } catch {
    return {};
  }
}

function usage(result: ApiCompletionResult) {
  return {
    input_tokens: result.promptTokens - result.cachedTokens,
    cache_read_input_tokens: result.cachedTokens,
    cache_creation_input_tokens: 0,
    output_tokens: result.completionTokens,
  };
}

export async function handleMessages(context: EndpointContext): Promise<void> {
  const body = parseBody(messagesSchema, context.body);
  const request = messagesRequest(body);
  const model = context.runner.resolveModel(body.model);
  const stream = body.stream === true;
  context.record({ model: model.apiId, stream });
  const id = responseId("msg_");
  const options = runOptions(context, model, "/v1/messages");

  if (!stream) {
    const result = await context.runner.complete(request, options);
    context.record(completionRecord(result));
    sendJson(
      context.response,
      200,
      {
        id,
        type: "message",
        role: "assistant",
        model: model.apiId,
        content: [
          ...(result.text !== "" || result.toolCalls.length === 0 ? [{ type: "text", text: result.text }] : []),
          ...result.toolCalls.map((call) => ({
            type: "tool_use",
            id: call.id.replace(/^call_/, "toolu_"),
            name: call.name,
            input: toolInput(call.arguments),
          })),
        ],
        stop_reason: stopReason(result),
        stop_sequence: result.stopSequence,
        usage: usage(result),
      },
      context.headers,
    );
    return;
  }

  const events = new EventStream(context.response, context.headers);
  const send = (data: { type: string } & Record<string, unknown>) => events.send(data, data.type);
  let started = false;
  let textOpen = false;
  let index = 0;
  const begin = (prompt?: { tokens: number; cached: number }) => {
    if (started) return;
    started = true;
    send({
      type: "message_start",
      message: {
        id,
        type: "message",
        role: "assistant",
        model: model.apiId,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        // The engine's count, sent with its first token (before any text).
        usage: {
          input_tokens: (prompt?.tokens ?? 0) - (prompt?.cached ?? 0),
          cache_read_input_tokens: prompt?.cached ?? 0,
          output_tokens: 0,
        },
      },
    });
  };
  const openText = () => {
    if (textOpen) return;
    textOpen = true;
    send({ type: "content_block_start", index, content_block: { type: "text", text: "" } });
  };
  try {
    const result = await context.runner.complete(request, {
      ...options,
      onDelta: (delta) => {
        if (delta.prompt) begin(delta.prompt);
        if (delta.text === "") return;
        begin();
        openText();
        send({ type: "content_block_delta", index, delta: { type: "text_delta", text: delta.text } });
      },
    });
    context.record(completionRecord(result));
    if (result.finishReason === "aborted" && context.signal.aborted) {
      events.end();
      return;
    }
    begin();
    if (result.toolCalls.length === 0) openText();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set inside openText(), a closure, which the type checker's narrowing does not follow
    if (textOpen) {
      send({ type: "content_block_stop", index });
      index += 1;
    }
    for (const call of result.toolCalls) {
      send({
        type: "content_block_start",
        index,
        content_block: { type: "tool_use", id: call.id.replace(/^call_/, "toolu_"), name: call.name, input: {} },
      });
      for (const piece of pieces(call.arguments))
        send({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: piece } });
      send({ type: "content_block_stop", index });
      index += 1;
    }
    send({ type: "message_delta", delta: { stop_reason: stopReason(result), stop_sequence: result.stopSequence }, usage: usage(result) });
    send({ type: "message_stop" });
    events.end();
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set inside begin(), a closure, which the type checker's narrowing does not follow
    if (!started) throw error;
    const apiError = toApiError(error);
    context.record({ error: apiError.message });
    const body = errorBody("anthropic", apiError) as { type: string };
    send(body);
    events.end();
  }
}
