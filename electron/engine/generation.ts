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

/** Room kept free in the window for the reply's first tokens when a prompt is fitted into it. */
export function replyReserve(contextSize: number): number {
  return Math.min(64, Math.floor(contextSize / 4));
}

/**
 * The prompt's tokens: the whole conversation through the chat template. When it does not
 * fit, the oldest turns after the system prompt are left out (the fewest that make it fit),
 * and the caller is told how many.
 */
export function buildPrompt(
  target: GenerationTarget,
  messages: readonly PromptMessage[],
  reserve: number,
): { tokens: Token[]; stops: StopTriggers; droppedMessages: number } {
  const history = toChatHistory(messages);
  const system = history[0]?.type === "system" ? 1 : 0;
  const attempt = (dropped: number) => {
    const kept = [...history.slice(0, system), ...history.slice(system + dropped)];
    const state = target.chatWrapper.generateContextState({ chatHistory: [...kept, { type: "model", response: [] }] });
    const tokens = state.contextText.tokenize(target.model.tokenizer);
    return { state, tokens, dropped, fits: tokens.length + reserve <= target.contextSize };
  };
  let fitting = attempt(0);
  if (!fitting.fits) {
    // Leaving out more turns never makes the prompt longer, so the fewest to leave out is found
    // by halving: a handful of tokenizations of the conversation, not one per turn (a long
    // chat has hundreds, and each is tokenized whole).
    const most = Math.max(0, history.length - 1 - system);
    const last = most === 0 ? fitting : attempt(most);
    if (!last.fits) {
      throw new QuantaError(
        "context_overflow",
        `The message needs ${last.tokens.length.toLocaleString("en-US")} tokens, but the context window holds ${target.contextSize.toLocaleString("en-US")}. Shorten it or load the model with a larger context.`,
        { reason: "message_too_long", tokens: last.tokens.length, contextSize: target.contextSize },
      );
    }
    fitting = last;
    let tooFew = 0;
    while (fitting.dropped - tooFew > 1) {
      const middle = attempt(Math.floor((tooFew + fitting.dropped) / 2));
      if (middle.fits) fitting = middle;
      else tooFew = middle.dropped;
    }
  }
  return {
    tokens: fitting.tokens,
    stops: resolveStopTriggers(target.model, fitting.state.stopGenerationTriggers),
    droppedMessages: fitting.dropped,
  };
}

function commonPrefixLength(a: readonly Token[], b: readonly Token[]): number {
  const limit = Math.min(a.length, b.length);
  let index = 0;
  while (index < limit && a[index] === b[index]) index += 1;
  return index;
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
): Promise<{ text: string; stats: GenerationStats; droppedMessages: number; chatTemplate: string; contextSize: number }> {
  const { model, sequence } = target;
  const prompt = buildPrompt(target, messages, replyReserve(target.contextSize));

  // Keep the cached prefix, drop the rest; at least one token must be evaluated to sample.
  const reuse = Math.min(commonPrefixLength(sequence.contextTokens, prompt.tokens), prompt.tokens.length - 1);
  if (reuse < sequence.nextTokenIndex) {
    await sequence.eraseContextTokenRanges([{ start: reuse, end: sequence.nextTokenIndex }]);
  }
  const input = prompt.tokens.slice(reuse);
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
    for await (const token of sequence.evaluate(input, {
      temperature: sampling.temperature,
      topK: sampling.topK,
      topP: sampling.topP,
      minP: sampling.minP,
      // llama.cpp's sampler is seeded with a constant unless told otherwise: same prompt, same reply.
      seed: sampling.seed ?? Math.floor(Math.random() * 2 ** 32),
      ...(sampling.repeatPenalty === 1 ? {} : { repeatPenalty: { punishTokens: () => recent.toArray(), penalty: sampling.repeatPenalty } }),
    })) {
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
