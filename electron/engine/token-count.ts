// Token counts for the chat view, with the tokenizer and chat template a reply's prompt uses:
// how much of the context a conversation fills, and what a message being typed would take.
// Synchronous tokenizing only: it never waits for (or holds up) a generation.

import { QuantaError } from "../contract/errors.js";
import { buildPrompt, keptTurns, toChatHistory, type GenerationTarget } from "./generation.js";
import type { CountTokensRequest, EngineTokenCount, PromptMessage } from "./protocol.js";

/**
 * The conversation through the chat template, as the context holds it after its last turn:
 * without the oldest turns the last reply left out (`droppedBefore`), as its prompt was.
 */
function conversationTokens(target: GenerationTarget, messages: readonly PromptMessage[], droppedBefore: number): number {
  const held = keptTurns(messages, droppedBefore);
  if (held.length === 0) return 0;
  const state = target.chatWrapper.generateContextState({ chatHistory: toChatHistory(held) });
  return state.contextText.tokenize(target.model.tokenizer).length;
}

/** The whole prompt a reply to these messages would start from (nothing left out), for a message too long to be fitted. */
function promptTokens(target: GenerationTarget, messages: readonly PromptMessage[]): number {
  const state = target.chatWrapper.generateContextState({ chatHistory: [...toChatHistory(messages), { type: "model", response: [] }] });
  return state.contextText.tokenize(target.model.tokenizer).length;
}

export function countTokens(target: GenerationTarget, request: CountTokensRequest): EngineTokenCount {
  const { contextSize } = target;
  const chatTemplate = target.chatWrapper.wrapperName;
  // Each count tokenizes the conversation: only the one asked for is made.
  if (request.draft === null) {
    return {
      contextSize,
      chatTemplate,
      conversationTokens: conversationTokens(target, request.messages, request.droppedBefore ?? 0),
      draft: null,
    };
  }
  const messages: PromptMessage[] = [...request.messages, { role: "user", text: request.draft }];
  const tokens = target.model.tokenize(request.draft, false).length;
  let whole: number;
  let fit: "fits" | "drops_turns" | "too_long";
  let droppedMessages = 0;
  try {
    // As the reply would fit it: the same function, from the same last reply's cut.
    const fitted = buildPrompt(target, messages, request.droppedBefore);
    whole = fitted.wholeTokens;
    droppedMessages = fitted.droppedMessages;
    fit = droppedMessages > 0 ? "drops_turns" : "fits";
  } catch (error) {
    if (!(error instanceof QuantaError && error.code === "context_overflow")) throw error;
    whole = promptTokens(target, messages);
    fit = "too_long";
  }
  return {
    contextSize,
    chatTemplate,
    conversationTokens: null,
    draft: { tokens, promptTokens: whole, leftTokens: contextSize - whole, fit, droppedMessages },
  };
}
