// POST /v1/completions: a raw prompt, no chat template; same sampling and streaming as chat.

import type { ApiCompletionRequest, TokenLogprob } from "../../engine/protocol.js";
import {
  completionRecord,
  type EndpointContext,
  openAiFinishReason,
  openAiUsage,
  parseBody,
  responseId,
  runOptions,
  unixSeconds,
} from "./endpoint.js";
import { errorBody, toApiError } from "./errors.js";
import { sendJson } from "./http-io.js";
import { completionSchema, logitBiasList, samplingFrom, stopList } from "./openai-schemas.js";
import { EventStream } from "./sse.js";

/** OpenAI's default for /v1/completions. */
const DEFAULT_MAX_TOKENS = 16;

/** The legacy completions' log probabilities: parallel arrays, alternatives as {token: logprob}. */
function legacyLogprobs(entries: readonly TokenLogprob[], offset: number) {
  const textOffset: number[] = [];
  let at = offset;
  for (const entry of entries) {
    textOffset.push(at);
    at += entry.token.length;
  }
  return {
    tokens: entries.map((entry) => entry.token),
    token_logprobs: entries.map((entry) => entry.logprob),
    top_logprobs: entries.map((entry) => Object.fromEntries(entry.top.map((top) => [top.token, top.logprob]))),
    text_offset: textOffset,
  };
}

export async function handleCompletions(context: EndpointContext): Promise<void> {
  const body = parseBody(completionSchema, context.body);
  const prompt = typeof body.prompt === "string" ? body.prompt : (body.prompt[0] ?? "");
  const model = context.runner.resolveModel(body.model);
  const stream = body.stream === true;
  context.record({ model: model.apiId, stream });
  const request: Omit<ApiCompletionRequest, "requestId"> = {
    input: { kind: "text", prompt },
    sampling: samplingFrom(body, DEFAULT_MAX_TOKENS),
    stop: stopList(body.stop),
    logitBias: logitBiasList(body.logit_bias),
    grammar: null,
    logprobs: body.logprobs === null || body.logprobs === undefined ? null : { top: body.logprobs },
  };
  const echo = body.echo === true ? prompt : "";
  const base = {
    id: responseId("cmpl-"),
    created: unixSeconds(),
    model: model.apiId,
    system_fingerprint: "quanta",
    object: "text_completion",
  };
  const options = runOptions(context, model, "/v1/completions");

  if (!stream) {
    const result = await context.runner.complete(request, options);
    context.record(completionRecord(result));
    sendJson(
      context.response,
      200,
      {
        ...base,
        choices: [
          {
            index: 0,
            text: echo + result.text,
            logprobs: result.logprobs ? legacyLogprobs(result.logprobs, echo.length) : null,
            finish_reason: openAiFinishReason(result.finishReason),
          },
        ],
        usage: openAiUsage(result),
      },
      context.headers,
    );
    return;
  }

  const events = new EventStream(context.response, context.headers);
  let started = false;
  let offset = echo.length;
  const chunk = (text: string, finishReason: string | null, logprobs: TokenLogprob[] | null) => {
    events.send({
      ...base,
      choices: [{ index: 0, text, logprobs: logprobs ? legacyLogprobs(logprobs, offset) : null, finish_reason: finishReason }],
    });
    offset += text.length;
  };
  const begin = () => {
    if (started) return;
    started = true;
    if (echo !== "") {
      offset = 0;
      chunk(echo, null, request.logprobs ? [] : null);
    }
  };
  try {
    const result = await context.runner.complete(request, {
      ...options,
      onDelta: (delta) => {
        if (delta.text === "") return;
        begin();
        chunk(delta.text, null, request.logprobs ? (delta.logprobs ?? []) : null);
      },
    });
    context.record(completionRecord(result));
    if (result.finishReason === "aborted" && context.signal.aborted) {
      events.end();
      return;
    }
    begin();
    chunk("", openAiFinishReason(result.finishReason), request.logprobs ? [] : null);
    if (body.stream_options?.include_usage === true) events.send({ ...base, choices: [], usage: openAiUsage(result) });
    events.done();
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set inside begin(), a closure, which the type checker's narrowing does not follow
    if (!started) throw error;
    const apiError = toApiError(error);
    context.record({ error: apiError.message });
    events.send(errorBody("openai", apiError));
    events.done();
  }
}
