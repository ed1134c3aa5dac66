// One reply: builds the prompt with the model's chat template, reuses the part of the
// context that is unchanged since the last reply, and runs the per-token loop. The loop is
// the hot path: per token it only counts and checks the stop flags; text is decoded and sent
// in batches, beside the next token's decode (see ReplyText).

import {
  LlamaText,
  SpecialTokensText,
  type ChatHistoryItem,
  type ChatWrapper,
  type LlamaContextSequence,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import { QuantaError } from "../contract/errors.js";
import type { GenerationStats, StopReason } from "../contract/types.js";
import type { PromptMessage, SamplingSettings } from "./protocol.js";
import { RecentTokens } from "./recent-tokens.js";
import { ReplyText } from "./reply-text.js";
import { stepTokens, type StepOptions } from "./token-stepper.js";

/** How many of the last tokens the repeat penalty punishes. */
const PUNISHED_TOKENS = 64;

export interface GenerationTarget {
  model: LlamaModel;
  sequence: LlamaContextSequence;
  chatWrapper: ChatWrapper;
  contextSize: number;
  threads: number;
}

export interface StopTriggers {
  tokens: ReadonlySet<Token>;
  texts: readonly string[];
}

export function toChatHistory(messages: readonly PromptMessage[]): ChatHistoryItem[] {
  return messages.map((message): ChatHistoryItem => {
    switch (message.role) {
      case "system":
        return { type: "system", text: message.text };
      case "user":
        return { type: "user", text: message.text };
      case "assistant":
        return { type: "model", response: [message.text] };
      default:
        return message.role satisfies never;
    }
  });
}

/** 1 when the conversation opens with a system prompt, which no cut leaves out; else 0. */
function systemTurns(messages: readonly PromptMessage[]): number {
  return messages[0]?.role === "system" ? 1 : 0;
}

/** The turns a prompt holds when the oldest `dropped` are left out: the system prompt, then every turn after those. */
export function keptTurns(messages: readonly PromptMessage[], dropped: number): PromptMessage[] {
  const system = systemTurns(messages);
  return [...messages.slice(0, system), ...messages.slice(system + dropped)];
}

/** Splits the template's stop triggers into single special tokens and plain texts. */
export function resolveStopTriggers(model: LlamaModel, triggers: readonly LlamaText[]): StopTriggers {
  const tokens = new Set<Token>();
  const texts: string[] = [];
  for (const trigger of triggers) {
    const values = LlamaText(trigger).values;
    if (values.every((value) => typeof value === "string")) {
      const text = values.join("");
      if (text !== "") texts.push(text);
    } else if (values.length === 1 && values[0] instanceof SpecialTokensText) {
      const ids = model.tokenize(values[0].value, true);
      if (ids.length === 1 && ids[0] !== undefined) tokens.add(ids[0]);
    }
    // Built-in special tokens (EOS, EOT) end generation through llama.cpp's end-of-generation check.
  }
  return { tokens, texts };
}

/**
 * The room a prompt leaves in a window of `contextSize` tokens for the reply:
 * - keep: while the conversation leaves a quarter of the window, no more turns are left out;
 * - cut: leaving out turns makes room for half of it, so several replies follow before the
 *   next cut, each starting with the prompt the last one had (the context's cache of it is
 *   used again, where a cut per reply would evaluate the window anew for every reply);
 * - reserve: the least a message alone must leave (64 tokens, or the quarter if less), else
 *   it is refused.
 */
export function replyRoom(contextSize: number): { reserve: number; keep: number; cut: number } {
  const keep = Math.floor(contextSize / 4);
  return { reserve: Math.min(64, keep), keep, cut: Math.floor(contextSize / 2) };
}

/**
 * The prompt's tokens: the whole conversation through the chat template, with the oldest
 * turns after the system prompt left out when it does not leave the room `replyRoom` keeps,
 * and how many were left out. `droppedBefore`, the count the conversation's last reply left
 * out, is kept while that still leaves the room; otherwise the fewest more are left out that
 * make room for half the window.
 */
export function buildPrompt(
  target: GenerationTarget,
  messages: readonly PromptMessage[],
  droppedBefore = 0,
): { tokens: Token[]; stops: StopTriggers; droppedMessages: number; wholeTokens: number } {
  const { contextSize } = target;
  const room = replyRoom(contextSize);
  const attempt = (dropped: number) => {
    const chatHistory = [...toChatHistory(keptTurns(messages, dropped)), { type: "model" as const, response: [] }];
    const state = target.chatWrapper.generateContextState({ chatHistory });
    const tokens = state.contextText.tokenize(target.model.tokenizer);
    return { state, tokens, dropped, free: contextSize - tokens.length };
  };
  const whole = attempt(0);
  const done = (fitted: ReturnType<typeof attempt>) => ({
    tokens: fitted.tokens,
    stops: resolveStopTriggers(target.model, fitted.state.stopGenerationTriggers),
    droppedMessages: fitted.dropped,
    /** The prompt with nothing left out (what the composer's count shows). */
    wholeTokens: whole.tokens.length,
  });
  if (whole.free >= room.keep) return done(whole);
  // Every turn but the last (the message being answered) and the system prompt may go.
  const most = Math.max(0, messages.length - 1 - systemTurns(messages));
  const floor = Math.min(droppedBefore, most);
  const kept = floor > 0 ? attempt(floor) : whole;
  if (kept.free >= room.keep) return done(kept);
  const last = most === floor ? kept : attempt(most);
  if (last.free < room.reserve) {
    throw new QuantaError(
      "context_overflow",
      `The message needs ${last.tokens.length.toLocaleString("en-US")} tokens, but the context window holds ${contextSize.toLocaleString("en-US")}. Shorten it or load the model with a larger context.`,
      { reason: "message_too_long", tokens: last.tokens.length, contextSize },
    );
  }
  // Leaving out more turns never makes the prompt longer, so the fewest that make the room are
  // found by halving: a handful of tokenizations of the conversation, not one per turn (a long
  // chat has hundreds, and each is tokenized whole). Where even the last message alone leaves
  // less, it goes with what it leaves.
  let fitting = last;
  let tooFew = floor;
  while (fitting.dropped - tooFew > 1) {
    const middle = attempt(Math.floor((tooFew + fitting.dropped) / 2));
    if (middle.free >= room.cut) fitting = middle;
    else tooFew = middle.dropped;
  }
  return done(fitting);
}

export function commonPrefixLength(a: readonly Token[], b: readonly Token[]): number {
  const limit = Math.min(a.length, b.length);
  let index = 0;
  while (index < limit && a[index] === b[index]) index += 1;
  return index;
}

/**
 * Keeps the start of `tokens` the sequence already holds and erases the rest of it; at least
 * one token is left to decode, to sample the next from. Returns how many were kept and the
 * tokens still to decode.
 */
export async function reuseCachedPrefix(
  sequence: LlamaContextSequence,
  tokens: readonly Token[],
): Promise<{ reused: number; input: Token[] }> {
  const reused = Math.min(commonPrefixLength(sequence.contextTokens, tokens), tokens.length - 1);
  if (reused < sequence.nextTokenIndex) {
    await sequence.eraseContextTokenRanges([{ start: reused, end: sequence.nextTokenIndex }]);
  }
  return { reused, input: tokens.slice(reused) };
}

export interface GenerationControl {
  onText(text: string, progress: { generatedTokens: number; contextUsed: number }): void;
  isStopRequested(): boolean;
}

export async function generateReply(
  target: GenerationTarget,
  messages: readonly PromptMessage[],
  sampling: SamplingSettings,
  control: GenerationControl,
  droppedBefore = 0,
): Promise<{ text: string; stats: GenerationStats; droppedMessages: number; chatTemplate: string; contextSize: number }> {
  const { model, sequence } = target;
  const prompt = buildPrompt(target, messages, droppedBefore);

  const { input } = await reuseCachedPrefix(sequence, prompt.tokens);
  // The context is the prompt now; each generated token joins it before the next is sampled.
  const recent = new RecentTokens(PUNISHED_TOKENS, prompt.tokens);

  let generated = 0;
  const reply = new ReplyText(model, prompt.stops.texts, (text) =>
    control.onText(text, { generatedTokens: generated, contextUsed: sequence.nextTokenIndex }),
  );
  const stopTokens = prompt.stops.tokens;
  const lastToken = target.contextSize - 1;
  const started = performance.now();
  let firstTokenAt = 0;
  let stopReason: StopReason = "end";

  try {
    const options: StepOptions = {
      temperature: sampling.temperature,
      topK: sampling.topK,
      topP: sampling.topP,
      minP: sampling.minP,
      // llama.cpp's sampler is seeded with a constant unless told otherwise: same prompt, same reply.
      seed: sampling.seed ?? Math.floor(Math.random() * 2 ** 32),
      ...(sampling.repeatPenalty === 1 ? {} : { repeatPenalty: { punishTokens: () => recent.toArray(), penalty: sampling.repeatPenalty } }),
    };
    for await (const token of stepTokens(sequence, input, options) ?? sequence.evaluate(input, options)) {
      if (generated === 0) firstTokenAt = performance.now();
      // A stop text completed by an earlier token ends the reply here, as a stop token does.
      if (stopTokens.has(token) || reply.stopped) break;
      generated += 1;
      recent.push(token);
      reply.push(token);
      if (control.isStopRequested()) {
        stopReason = "stopped";
        break;
      }
      if (generated >= sampling.maxTokens) {
        stopReason = "max_tokens";
        break;
      }
      if (sequence.nextTokenIndex >= lastToken) {
        stopReason = "context_full";
        break;
      }
    }
  } finally {
    reply.cancel();
  }
  const finished = performance.now();
  reply.finish();
  if (generated === 0) firstTokenAt = finished;

  const timeToFirstToken = firstTokenAt - started;
  const generationMs = finished - firstTokenAt;
  return {
    text: reply.value,
    droppedMessages: prompt.droppedMessages,
    chatTemplate: target.chatWrapper.wrapperName,
    contextSize: target.contextSize,
    stats: {
      promptTokens: prompt.tokens.length,
      generatedTokens: generated,
      timeToFirstTokenMs: Math.round(timeToFirstToken * 10) / 10,
      tokensPerSecond: generated > 1 && generationMs > 0 ? Math.round(((generated - 1) * 1000 * 10) / generationMs) / 10 : 0,
      promptTokensPerSecond: timeToFirstToken > 0 ? Math.round((input.length * 1000 * 10) / timeToFirstToken) / 10 : 0,
      stopReason,
      threads: target.threads,
    },
  };
}
