// What a request handler is given, and the helpers the endpoints share.

import { randomBytes } from "node:crypto";
import type http from "node:http";
import type { z } from "zod";
import type { ApiRequestLogEntry } from "../../contract/types.js";
import type { ApiCompletionResult } from "../../engine/protocol.js";
import type { ApiModel, CompletionRunner, RunOptions } from "./completion-runner.js";
import { validationError } from "./errors.js";

export interface EndpointContext {
  request: http.IncomingMessage;
  response: http.ServerResponse;
  body: unknown;
  runner: CompletionRunner;
  entry: ApiRequestLogEntry;
  /** Aborted when the client disconnects before the answer is complete. */
  signal: AbortSignal;
  client: string;
  /** CORS headers to send with the answer. */
  headers: http.OutgoingHttpHeaders;
  noWait: boolean;
  /** Sets the log entry's figures (the server adds status and duration). */
  record(outcome: Partial<ApiRequestLogEntry>): void;
}

/** How a completion endpoint runs its request: for this client, this model, until the client leaves. */
export function runOptions(context: EndpointContext, model: ApiModel, endpoint: string): RunOptions {
  return {
    model,
    client: context.client,
    endpoint,
    signal: context.signal,
    noWait: context.noWait,
    onQueued: (position: number) => context.record({ queuedBehind: position }),
  };
}

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw validationError(parsed.error);
  return parsed.data;
}

export function responseId(prefix: string): string {
  return `${prefix}${randomBytes(12).toString("base64url")}`;
}

export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** The log's figures for a finished completion. */
export function completionRecord(result: ApiCompletionResult): Partial<ApiRequestLogEntry> {
  return {
    promptTokens: result.promptTokens,
    cachedTokens: result.cachedTokens,
    completionTokens: result.completionTokens,
    tokensPerSecond: result.tokensPerSecond,
    timeToFirstTokenMs: result.completionTokens > 0 ? result.timeToFirstTokenMs : null,
    finishReason: result.finishReason,
  };
}

/** OpenAI's usage object. */
export function openAiUsage(result: ApiCompletionResult) {
  return {
    prompt_tokens: result.promptTokens,
    completion_tokens: result.completionTokens,
    total_tokens: result.promptTokens + result.completionTokens,
    prompt_tokens_details: { cached_tokens: result.cachedTokens },
  };
}

/** OpenAI has no "aborted": a stream the client left ends like one that stopped. */
export function openAiFinishReason(reason: ApiCompletionResult["finishReason"]): "stop" | "length" | "tool_calls" {
  return reason === "aborted" ? "stop" : reason;
}

/** Splits a tool call's arguments into pieces, as a streamed call arrives. */
export function pieces(text: string, size = 24): string[] {
  const out: string[] = [];
  for (let index = 0; index < text.length; index += size) out.push(text.slice(index, index + size));
  return out.length === 0 ? [""] : out;
}
