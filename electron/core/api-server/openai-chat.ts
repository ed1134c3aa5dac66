// POST /v1/chat/completions: OpenAI's chat completions, streamed exactly as OpenAI streams
// them (role first, one id, finish_reason null until the last choice chunk, an optional usage
// chunk with no choices, then [DONE]).

import type { ApiCompletionRequest, ApiMessage, TokenLogprob } from "../../engine/protocol.js";
import {
  completionRecord,
  type EndpointContext,
  openAiFinishReason,
  openAiUsage,
  parseBody,
  pieces,
  responseId,
  runOptions,
  unixSeconds,
} from "./endpoint.js";
import { ApiError, errorBody, toApiError } from "./errors.js";
import { sendJson } from "./http-io.js";
import { chatCompletionSchema, contentText, logitBiasList, samplingFrom, stopList, type ChatCompletionBody } from "./openai-schemas.js";
import { EventStream } from "./sse.js";

/** Until the context is full, as llama-server does when max_tokens is not given. */
const UNLIMITED = 1_000_000;

function toMessages(body: ChatCompletionBody): ApiMessage[] {
  return body.messages.map((message): ApiMessage => {
    switch (message.role) {
      case "system":
      case "developer":
        return { role: "system", text: contentText(message.content) };
      case "user":
        return { role: "user", text: contentText(message.content) };
      case "assistant":
        return {
          role: "assistant",
          text: contentText(message.content),
          ...(message.tool_calls && message.tool_calls.length > 0
            ? {
                toolCalls: message.tool_calls.map((call) => ({
                  id: call.id,
                  name: call.function.name,
                  arguments: call.function.arguments,
                })),
              }
            : {}),
        };
      case "tool":
        return { role: "tool", text: contentText(message.content), toolCallId: message.tool_call_id };
      default:
        return message satisfies never;
    }
  });
}

export function chatRequest(body: ChatCompletionBody): Omit<ApiCompletionRequest, "requestId"> {
  const format = body.response_format;
  const choice = body.tool_choice;
  if (body.top_logprobs !== undefined && body.top_logprobs !== null && body.top_logprobs > 0 && body.logprobs !== true) {
    throw new ApiError(400, "top_logprobs: needs logprobs: true.", "top_logprobs");
  }
  return {
    input: {
      kind: "chat",
      messages: toMessages(body),
      ...(body.tools && body.tools.length > 0
        ? {
            tools: body.tools.map((tool) => ({
              name: tool.function.name,
              ...(tool.function.description === undefined ? {} : { description: tool.function.description }),
              ...(tool.function.parameters === undefined ? {} : { parameters: tool.function.parameters }),
            })),
          }
        : {}),
      ...(choice === undefined ? {} : { toolChoice: typeof choice === "string" ? choice : { name: choice.function.name } }),
    },
    sampling: samplingFrom({ ...body, max_tokens: body.max_completion_tokens ?? body.max_tokens }, UNLIMITED),
    stop: stopList(body.stop),
    logitBias: logitBiasList(body.logit_bias),
    grammar:
      format === undefined || format.type === "text"
        ? null
        : format.type === "json_object" || format.json_schema.schema === undefined
          ? { kind: "json" }
          : { kind: "json_schema", schema: format.json_schema.schema },
    logprobs: body.logprobs === true ? { top: body.top_logprobs ?? 0 } : null,
  };
}

export function openAiLogprobs(entries: readonly TokenLogprob[]) {
  return {
    content: entries.map((entry) => ({
      token: entry.token,
      logprob: entry.logprob,
      bytes: entry.bytes,
      top_logprobs: entry.top.map((top) => ({ token: top.token, logprob: top.logprob, bytes: top.bytes })),
    })),
    refusal: null,
  };
}

export async function handleChatCompletions(context: EndpointContext): Promise<void> {
  const body = parseBody(chatCompletionSchema, context.body);
  const request = chatRequest(body);
  const model = context.runner.resolveModel(body.model);
  const stream = body.stream === true;
  context.record({ model: model.apiId, stream });
  const id = responseId("chatcmpl-");
  const created = unixSeconds();
  const base = { id, created, model: model.apiId, system_fingerprint: "quanta" };
  const options = runOptions(context, model, "/v1/chat/completions");

  if (!stream) {
    const result = await context.runner.complete(request, options);
    context.record(completionRecord(result));
    sendJson(
      context.response,
      200,
      {
        ...base,
        object: "chat.completion",
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: result.toolCalls.length > 0 && result.text === "" ? null : result.text,
              refusal: null,
              ...(result.toolCalls.length > 0
                ? {
                    tool_calls: result.toolCalls.map((call) => ({
                      id: call.id,
                      type: "function",
                      function: { name: call.name, arguments: call.arguments },
                    })),
                  }
                : {}),
            },
            logprobs: result.logprobs ? openAiLogprobs(result.logprobs) : null,
            finish_reason: openAiFinishReason(result.finishReason),
          },
        ],
        usage: openAiUsage(result),
      },
      context.headers,
    );
    return;
  }

  // Headers go out with the first token, so an error before it still gets its own status.
  const events = new EventStream(context.response, context.headers);
  const chunk = (delta: Record<string, unknown>, finishReason: string | null, logprobs: TokenLogprob[] | null = null) =>
    events.send({
      ...base,
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta, logprobs: logprobs ? openAiLogprobs(logprobs) : null, finish_reason: finishReason }],
    });
  let started = false;
  const begin = () => {
    if (started) return;
    started = true;
    chunk({ role: "assistant", content: "", refusal: null }, null);
  };
  try {
    const result = await context.runner.complete(request, {
      ...options,
      onDelta: (delta) => {
        if (delta.text === "" && !delta.logprobs?.length) return;
        begin();
        chunk({ content: delta.text }, null, request.logprobs ? (delta.logprobs ?? []) : null);
      },
    });
    context.record(completionRecord(result));
    if (result.finishReason === "aborted" && context.signal.aborted) {
      events.end();
      return;
    }
    begin();
    result.toolCalls.forEach((call, index) => {
      chunk({ tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }] }, null);
      for (const piece of pieces(call.arguments)) chunk({ tool_calls: [{ index, function: { arguments: piece } }] }, null);
    });
    chunk({}, openAiFinishReason(result.finishReason));
    if (body.stream_options?.include_usage === true) {
      events.send({ ...base, object: "chat.completion.chunk", choices: [], usage: openAiUsage(result) });
    }
    events.done();
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set inside begin(), a closure, which the type checker's narrowing does not follow
    if (!started) throw error;
    // Mid-stream the status is already 200: the error goes as an event, as OpenAI sends it.
    const apiError = toApiError(error);
    context.record({ error: apiError.message });
    events.send(errorBody("openai", apiError));
    events.done();
  }
}
