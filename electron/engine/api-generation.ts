// One completion for the local API server: a chat (with tools, a JSON grammar, log
// probabilities) or a raw prompt with no template. It reuses the cached context prefix like
// the chat's own replies. Plain requests run a per-token loop as light as the chat's; tools
// in "auto" mode go through node-llama-cpp's LlamaChat, which parses the model's calls.

import { randomBytes } from "node:crypto";
import {
  LlamaChat,
  LlamaGrammarEvaluationState,
  LlamaText,
  TokenBias,
  type ChatHistoryItem,
  type ChatModelFunctionCall,
  type ChatModelFunctions,
  type ChatModelResponse,
  type GbnfJsonSchema,
  type LlamaContextSequenceRepeatPenalty,
  type LlamaGrammar,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import { QuantaError } from "../contract/errors.js";
import type {
  ApiCompletionRequest,
  ApiCompletionResult,
  ApiFinishReason,
  ApiMessage,
  ApiSampling,
  ApiTool,
  ApiToolCall,
  PromptUsage,
  TokenLogprob,
} from "./api-protocol.js";
import { commonPrefixLength, resolveStopTriggers, reuseCachedPrefix, type GenerationTarget, type StopTriggers } from "./generation.js";
import { FullDistribution } from "./full-distribution.js";
import { getBackend } from "./model-session.js";
import { FlushSchedule, ReplyText } from "./reply-text.js";
import { stepTokens, type StepOptions } from "./token-stepper.js";

export interface ApiGenerationControl {
  onText(text: string, progress: { generatedTokens: number; contextUsed: number }, logprobs: TokenLogprob[] | undefined): void;
  /** Once, when the prompt has been evaluated: its size (a streamed Anthropic reply starts with it). */
  onPrompt(prompt: PromptUsage): void;
  isStopRequested(): boolean;
  /** Aborted together with isStopRequested, for node-llama-cpp's own loop. */
  signal: AbortSignal;
}

/** How many recent tokens the repeat penalties look at (llama.cpp's penalty_last_n default). */
const PENALTY_LAST_N = 64;

export function newToolCallId(): string {
  return `call_${randomBytes(12).toString("base64url")}`;
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * OpenAI's messages as node-llama-cpp's chat history: an assistant turn's tool calls become
 * function calls in the model's response, each with the result of the tool message that
 * answers it (the chat wrapper renders both in the model's own syntax).
 */
export function toApiChatHistory(messages: readonly ApiMessage[]): { history: ChatHistoryItem[]; openResponse: boolean } {
  const history: ChatHistoryItem[] = [];
  const calls = new Map<string, ChatModelFunctionCall>();
  for (const message of messages) {
    const last = history.at(-1);
    switch (message.role) {
      case "system":
        history.push({ type: "system", text: message.text });
        break;
      case "user":
        history.push({ type: "user", text: message.text });
        break;
      case "assistant": {
        const response: ChatModelResponse["response"] = message.text === "" ? [] : [message.text];
        for (const call of message.toolCalls ?? []) {
          const item: ChatModelFunctionCall = {
            type: "functionCall",
            name: call.name,
            params: parseArguments(call.arguments),
            result: null,
          };
          calls.set(call.id, item);
          response.push(item);
        }
        if (last?.type === "model") last.response.push(...response);
        else history.push({ type: "model", response });
        break;
      }
      case "tool": {
        const call = message.toolCallId === undefined ? undefined : calls.get(message.toolCallId);
        if (call) call.result = parseArguments(message.text);
        else history.push({ type: "user", text: message.text });
        break;
      }
      default:
        return message.role satisfies never;
    }
  }
  const final = history.at(-1);
  // A trailing assistant turn with text (no calls) is a prefix the reply continues.
  const openResponse = final?.type === "model" && final.response.every((item) => typeof item === "string") && final.response.length > 0;
  if (!openResponse) history.push({ type: "model", response: [] });
  return { history, openResponse };
}

function toFunctions(tools: readonly ApiTool[]): ChatModelFunctions {
  const functions: Record<string, { description?: string; params?: GbnfJsonSchema }> = {};
  for (const tool of tools) {
    functions[tool.name] = {
      ...(tool.description === undefined ? {} : { description: tool.description }),
      ...(tool.parameters === undefined ? {} : { params: tool.parameters as GbnfJsonSchema }),
    };
  }
  return functions;
}

/** The grammar of a forced call: {"name": one of the tools, "arguments": that tool's parameters}. */
function forcedCallSchema(tools: readonly ApiTool[]): GbnfJsonSchema {
  const options = tools.map((tool): GbnfJsonSchema => ({
    type: "object",
    properties: {
      name: { const: tool.name },
      arguments: (tool.parameters as GbnfJsonSchema | undefined) ?? { type: "object", properties: {} },
    },
  }));
  return options.length === 1 && options[0] ? options[0] : { oneOf: options };
}

async function createGrammar(schema: GbnfJsonSchema | "json", field: string): Promise<LlamaGrammar> {
  const llama = await getBackend();
  try {
    return schema === "json"
      ? await llama.getGrammarFor("json")
      : await llama.createGrammarForJsonSchema(schema as Readonly<Record<string, never>> & GbnfJsonSchema);
  } catch (error) {
    throw new QuantaError(
      "invalid_request",
      `${field}: this JSON schema cannot be enforced (${error instanceof Error ? error.message : String(error)}).`,
    );
  }
}

/** The model's vocabulary size from its header (a token id past it would read out of bounds in llama.cpp). */
export function vocabularySize(model: LlamaModel): number {
  const metadata = model.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: readonly unknown[] } } };
  const size = metadata.tokenizer?.ggml?.tokens?.length;
  if (size === undefined || size === 0) throw new QuantaError("invalid_request", "logit_bias: this model's vocabulary size is unknown.");
  return size;
}

/**
 * A client's logit_bias as node-llama-cpp's TokenBias: added to each token's logit, -100 a ban.
 * `TokenBias.set` passes over end-of-generation tokens, so a bias on the end of text would be
 * dropped without a word; those go into its list directly, which its sampler reads as it is
 * (llama.cpp's logit-bias sampler, as llama-server's).
 */
function tokenBiasFor(model: LlamaModel, bias: ApiCompletionRequest["logitBias"]): TokenBias | undefined {
  if (bias.length === 0) return undefined;
  const tokenBias = new TokenBias(model.tokenizer);
  const list = (tokenBias as unknown as { _biases?: unknown })._biases;
  const vocabulary = vocabularySize(model);
  for (const [token, value] of bias) {
    if (token >= vocabulary) throw new QuantaError("invalid_request", `logit_bias: token ${token} is not in the model's vocabulary.`);
    const logit = value <= -100 ? -Infinity : value;
    if (!model.isEogToken(token as Token)) tokenBias.set(token as Token, { logit });
    else if (list instanceof Map) list.set(token, logit);
    else throw new QuantaError("invalid_request", `logit_bias: this version of the engine cannot bias the end-of-text token ${token}.`);
  }
  return tokenBias;
}

function penaltyFor(sampling: ApiSampling, recent: () => Token[]): LlamaContextSequenceRepeatPenalty | undefined {
  if (sampling.repeatPenalty === 1 && sampling.frequencyPenalty === 0 && sampling.presencePenalty === 0) return undefined;
  return {
    punishTokens: recent,
    penalty: sampling.repeatPenalty,
    frequencyPenalty: sampling.frequencyPenalty,
    presencePenalty: sampling.presencePenalty,
  };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

const LOGPROB_FLOOR = -9999;

function logprobOf(logprob: number): number {
  return Number.isFinite(logprob) ? Math.max(Math.min(logprob, 0), LOGPROB_FLOOR) : LOGPROB_FLOOR;
}

function pieceOf(model: LlamaModel, token: Token, previous: Token | undefined): { token: string; bytes: number[] } {
  const text = model.detokenize([token], false, previous === undefined ? undefined : [previous]);
  return { token: text, bytes: [...Buffer.from(text, "utf8")] };
}

interface Prompt {
  tokens: Token[];
  stops: StopTriggers;
  /** The text before the reply when it continues an assistant prefix or a raw prompt (for detokenizing). */
  raw: boolean;
}

function buildApiPrompt(target: GenerationTarget, request: ApiCompletionRequest, functions: ChatModelFunctions | undefined): Prompt {
  const { model } = target;
  if (request.input.kind === "text") {
    const bos = model.tokens.bos;
    const tokens = [...(bos !== null && model.tokens.shouldPrependBosToken ? [bos] : []), ...model.tokenize(request.input.prompt, true)];
    return { tokens, stops: { tokens: new Set(), texts: [] }, raw: true };
  }
  const { history, openResponse } = toApiChatHistory(request.input.messages);
  const state = target.chatWrapper.generateContextState({
    chatHistory: history,
    ...(functions ? { availableFunctions: functions, documentFunctionParams: true } : {}),
  });
  return {
    tokens: state.contextText.tokenize(model.tokenizer),
    stops: resolveStopTriggers(model, state.stopGenerationTriggers),
    raw: openResponse,
  };
}

/** One API completion on the loaded model. */
export async function completeForApi(
  target: GenerationTarget,
  request: ApiCompletionRequest,
  control: ApiGenerationControl,
): Promise<ApiCompletionResult> {
  const { input } = request;
  const tools = input.kind === "chat" && input.toolChoice !== "none" ? (input.tools ?? []) : [];
  const choice = input.kind === "chat" ? (input.toolChoice ?? "auto") : "none";
  const functions = tools.length > 0 ? toFunctions(tools) : undefined;
  if (typeof choice === "object" && !tools.some((tool) => tool.name === choice.name)) {
    throw new QuantaError("invalid_request", `tool_choice: there is no tool called "${choice.name}".`);
  }
  if (choice === "required" && tools.length === 0) {
    throw new QuantaError("invalid_request", `tool_choice: "required" needs at least one tool.`);
  }

  const prompt = buildApiPrompt(target, request, functions);
  if (prompt.tokens.length + 1 > target.contextSize) {
    throw new QuantaError(
      "context_overflow",
      `The prompt needs ${prompt.tokens.length} tokens, but the model's context window holds ${target.contextSize}.`,
    );
  }

  if (functions && choice === "auto") return completeWithFunctions(target, request, prompt, functions, control);

  const forcedTools = choice === "required" ? tools : typeof choice === "object" ? tools.filter((tool) => tool.name === choice.name) : [];
  const grammar =
    forcedTools.length > 0
      ? await createGrammar(forcedCallSchema(forcedTools), "tools")
      : request.grammar === null
        ? undefined
        : await createGrammar(request.grammar.kind === "json" ? "json" : (request.grammar.schema as GbnfJsonSchema), "response_format");

  const result = await runTokenLoop(target, request, prompt, grammar, forcedTools.length > 0 ? null : control, control);
  if (forcedTools.length === 0) return result;
  // The grammar made the reply one call as JSON; hand it back as a tool call, not as text.
  let parsed: { name: string; arguments: unknown };
  try {
    parsed = JSON.parse(result.text) as { name: string; arguments: unknown };
  } catch {
    // Cut off by max_tokens before the call was complete: the text as it stands, as OpenAI does.
    return { ...result, finishReason: result.finishReason === "aborted" ? "aborted" : "length", stopSequence: null };
  }
  return {
    ...result,
    text: "",
    toolCalls: [{ id: newToolCallId(), name: parsed.name, arguments: JSON.stringify(parsed.arguments ?? {}) }],
    finishReason: result.finishReason === "stop" ? "tool_calls" : result.finishReason,
    stopSequence: null,
  };
}

/** The light loop: per token it counts, checks the stop flag and the clock; text goes out in batches. */
async function runTokenLoop(
  target: GenerationTarget,
  request: ApiCompletionRequest,
  prompt: Prompt,
  grammar: LlamaGrammar | undefined,
  streaming: ApiGenerationControl | null,
  control: ApiGenerationControl,
): Promise<ApiCompletionResult> {
  const { model, sequence } = target;
  const { sampling } = request;
  const { reused: reuse, input } = await reuseCachedPrefix(sequence, prompt.tokens);

  const top = request.logprobs?.top ?? 0;
  const wantLogprobs = request.logprobs !== null;
  const allLogprobs: TokenLogprob[] = [];
  let pendingLogprobs: TokenLogprob[] = [];
  let generated = 0;
  // A grammar's own stop texts (the JSON grammars end on a run of newlines).
  const grammarStops = (grammar?.stopGenerationTriggers ?? []).flatMap((trigger) => {
    const values = LlamaText(trigger).values;
    return values.every((value) => typeof value === "string") ? [values.join("")] : [];
  });
  const reply = new ReplyText(
    model,
    [...prompt.stops.texts, ...grammarStops, ...request.stop],
    (text) => {
      const logprobs = wantLogprobs ? pendingLogprobs : undefined;
      pendingLogprobs = [];
      streaming?.onText(text, { generatedTokens: generated, contextUsed: sequence.nextTokenIndex }, logprobs);
    },
    { trimStart: !prompt.raw, context: prompt.raw ? prompt.tokens.slice(-8) : [] },
  );
  const stopTokens = prompt.stops.tokens;
  const lastToken = target.contextSize - 1;
  const options: StepOptions = {
    temperature: sampling.temperature,
    topK: sampling.topK,
    topP: sampling.topP,
    minP: sampling.minP,
    seed: sampling.seed ?? Math.floor(Math.random() * 2 ** 32),
    repeatPenalty: penaltyFor(sampling, () => sequence.contextTokens.slice(-PENALTY_LAST_N)),
    tokenBias: tokenBiasFor(model, request.logitBias),
    grammarEvaluationState: grammar ? new LlamaGrammarEvaluationState({ model, grammar }) : undefined,
  };
  // Log probabilities come from the model's whole distribution, never from the sampler's candidates.
  const distribution = wantLogprobs ? FullDistribution.for(sequence) : null;
  try {
    const started = performance.now();
    let firstTokenAt = 0;
    let previous: Token | undefined = prompt.tokens.at(-1);
    let finishReason: ApiFinishReason = "stop";
    for await (const token of stepTokens(sequence, input, options) ?? sequence.evaluate(input, options)) {
      if (generated === 0 && firstTokenAt === 0) {
        firstTokenAt = performance.now();
        control.onPrompt({ tokens: prompt.tokens.length, cached: reuse });
      }
      // A stop text completed by an earlier token ends the reply here, as a stop token does.
      if (stopTokens.has(token) || reply.stopped) break;
      generated += 1;
      reply.push(token);
      if (distribution) {
        const position = await distribution.read(token, top);
        const entry: TokenLogprob = {
          ...pieceOf(model, token, previous),
          logprob: logprobOf(position.chosen),
          top: position.top.map((candidate) => ({ ...pieceOf(model, candidate.token, previous), logprob: logprobOf(candidate.logprob) })),
        };
        allLogprobs.push(entry);
        pendingLogprobs.push(entry);
      }
      previous = token;
      if (control.isStopRequested()) {
        finishReason = "aborted";
        break;
      }
      if (generated >= sampling.maxTokens || sequence.nextTokenIndex >= lastToken) {
        finishReason = "length";
        break;
      }
    }
    const finished = performance.now();
    // A stop text completed by the last token allowed still ends the reply as a stop, not a cut.
    if (reply.finish() && finishReason === "length") finishReason = "stop";
    if (generated === 0) firstTokenAt = finished;
    const generationMs = finished - firstTokenAt;
    const matched = reply.matchedStop;
    return {
      text: grammar?.trimWhitespaceSuffix ? reply.value.trimEnd() : reply.value,
      toolCalls: [],
      finishReason,
      stopSequence: finishReason === "stop" && matched !== null && request.stop.includes(matched) ? matched : null,
      promptTokens: prompt.tokens.length,
      cachedTokens: reuse,
      completionTokens: generated,
      timeToFirstTokenMs: round(firstTokenAt - started),
      tokensPerSecond: generated > 1 && generationMs > 0 ? round(((generated - 1) * 1000) / generationMs) : null,
      logprobs: wantLogprobs ? allLogprobs : null,
      chatTemplate: request.input.kind === "chat" ? target.chatWrapper.wrapperName : "none",
    };
  } finally {
    reply.cancel();
    distribution?.dispose();
  }
}

/** Tools offered with tool_choice "auto": the model decides, and LlamaChat parses its calls. */
async function completeWithFunctions(
  target: GenerationTarget,
  request: ApiCompletionRequest,
  prompt: Prompt,
  functions: ChatModelFunctions,
  control: ApiGenerationControl,
): Promise<ApiCompletionResult> {
  if (request.input.kind !== "chat") throw new QuantaError("invalid_request", "Tools need chat messages.");
  const { model, sequence } = target;
  const { sampling } = request;
  const cached = commonPrefixLength(sequence.contextTokens, prompt.tokens);
  const { history } = toApiChatHistory(request.input.messages);
  const chat = new LlamaChat({ contextSequence: sequence, chatWrapper: target.chatWrapper, autoDisposeSequence: false });
  const started = performance.now();
  let firstTokenAt: number | null = null;
  let generated = 0;
  // LlamaChat hands text over per token, inside its loop: it goes out paced, as the light loop's does.
  let unsent = "";
  const sendText = (): boolean => {
    if (unsent !== "") control.onText(unsent, { generatedTokens: generated, contextUsed: sequence.nextTokenIndex }, undefined);
    unsent = "";
    return true;
  };
  const schedule = new FlushSchedule(sendText);
  try {
    const response = await chat.generateResponse(history, {
      functions,
      documentFunctionParams: true,
      signal: control.signal,
      stopOnAbortSignal: true,
      maxTokens: sampling.maxTokens,
      temperature: sampling.temperature,
      topK: sampling.topK,
      topP: sampling.topP,
      minP: sampling.minP,
      seed: sampling.seed ?? Math.floor(Math.random() * 2 ** 32),
      repeatPenalty:
        sampling.repeatPenalty === 1 && sampling.frequencyPenalty === 0 && sampling.presencePenalty === 0
          ? false
          : {
              lastTokens: PENALTY_LAST_N,
              penalty: sampling.repeatPenalty,
              frequencyPenalty: sampling.frequencyPenalty,
              presencePenalty: sampling.presencePenalty,
            },
      ...(request.logitBias.length > 0 ? { tokenBias: tokenBiasFor(model, request.logitBias) } : {}),
      ...(request.stop.length > 0 ? { customStopTriggers: request.stop } : {}),
      onToken: (tokens) => {
        if (firstTokenAt === null) {
          firstTokenAt = performance.now();
          control.onPrompt({ tokens: prompt.tokens.length, cached: Math.min(cached, prompt.tokens.length - 1) });
        }
        generated += tokens.length;
      },
      onTextChunk: (text) => {
        unsent += text;
        schedule.request();
      },
    });
    const finished = performance.now();
    // The rest of the text; a flush still scheduled finds nothing left (the finally below drops it).
    sendText();
    const toolCalls: ApiToolCall[] = (response.functionCalls ?? []).map((call) => ({
      id: newToolCallId(),
      name: call.functionName,
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the typings give no parameters for our untyped function list; the model's call carries them at run time
      arguments: JSON.stringify(call.params ?? {}),
    }));
    const stopReason = response.metadata.stopReason;
    const finishReason: ApiFinishReason =
      toolCalls.length > 0 ? "tool_calls" : stopReason === "maxTokens" ? "length" : stopReason === "abort" ? "aborted" : "stop";
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set in onToken, a callback, which the type checker's narrowing does not follow
    const first = firstTokenAt ?? finished;
    // node-llama-cpp names the trigger that matched; only the request's own stop sequences are reported.
    const trigger = response.metadata.stopReason === "customStopTrigger" ? response.metadata.customStopTrigger : [];
    const triggerText = trigger.every((part) => typeof part === "string") ? trigger.join("") : null;
    return {
      text: response.response,
      toolCalls,
      finishReason,
      stopSequence: finishReason === "stop" && triggerText !== null && request.stop.includes(triggerText) ? triggerText : null,
      promptTokens: prompt.tokens.length,
      cachedTokens: Math.min(cached, prompt.tokens.length - 1),
      completionTokens: generated,
      timeToFirstTokenMs: round(first - started),
      tokensPerSecond: generated > 1 && finished > first ? round(((generated - 1) * 1000) / (finished - first)) : null,
      logprobs: null,
      chatTemplate: target.chatWrapper.wrapperName,
    };
  } finally {
    schedule.cancel();
    chat.dispose({ disposeSequence: false });
  }
}

/** Embeddings with the loaded model: one embedding context per model, made on first use. */
const embeddingContexts = new WeakMap<LlamaModel, Promise<import("node-llama-cpp").LlamaEmbeddingContext>>();

export async function embedForApi(
  target: GenerationTarget,
  inputs: readonly string[],
): Promise<{ vectors: number[][]; promptTokens: number }> {
  const { model } = target;
  let context = embeddingContexts.get(model);
  const existing = context ? await context.catch(() => null) : null;
  if (!existing || existing.disposed) {
    context = model.createEmbeddingContext({ contextSize: Math.min(target.contextSize, model.trainContextSize), threads: target.threads });
    embeddingContexts.set(model, context);
  }
  const embedding = await (context as Promise<import("node-llama-cpp").LlamaEmbeddingContext>).catch((error: unknown) => {
    embeddingContexts.delete(model);
    throw new QuantaError(
      "generation_failed",
      `This model cannot make embeddings: ${error instanceof Error ? error.message : String(error)}`,
    );
  });
  const vectors: number[][] = [];
  let promptTokens = 0;
  for (const text of inputs) {
    const tokens = model.tokenize(text, false);
    if (tokens.length > target.contextSize) {
      throw new QuantaError(
        "context_overflow",
        `An input needs ${tokens.length} tokens, but the context window holds ${target.contextSize}.`,
      );
    }
    promptTokens += tokens.length;
    const result = await embedding.getEmbeddingFor(text);
    vectors.push([...result.vector]);
  }
  return { vectors, promptTokens };
}
