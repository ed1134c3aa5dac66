// `npm run bench`: what the repeat penalty costs per token late in a long conversation. The
// engine's own reply loop (generateReply) with the Creative preset (repeat penalty 1.05) against
// the Balanced preset (none) on a ~4,000-token conversation, same model, same seed, in
// alternating rounds. A penalty that reads the whole context per token shows here as a ratio
// well below 1; a cost independent of the context length keeps it near 1.

import path from "node:path";
import { getLlama, LlamaLogLevel, resolveChatWrapper } from "node-llama-cpp";
import { SAMPLING_PRESETS } from "../../electron/contract/chat-settings.js";
import { generateReply, type GenerationTarget } from "../../electron/engine/generation.js";
import type { PromptMessage } from "../../electron/engine/protocol.js";
import { TINY_RANDOM_MODEL } from "../support/paths.js";

const ROUNDS = 7;
const CONTEXT = 4096;
const CONVERSATION_TOKENS = 3_900;
const REPLY_TOKENS = 160;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Turns of plain prose until the conversation is about `tokens` long through the template. */
function conversation(target: GenerationTarget, tokens: number): PromptMessage[] {
  const sentence = "The lighthouse keeper counted the boats coming home before the storm reached the harbour. ";
  const messages: PromptMessage[] = [];
  for (;;) {
    const next: PromptMessage[] = [
      ...messages,
      { role: "user", text: sentence.repeat(6) },
      { role: "assistant", text: sentence.repeat(6) },
    ];
    const state = target.chatWrapper.generateContextState({
      chatHistory: next.map((m) => (m.role === "assistant" ? { type: "model", response: [m.text] } : { type: "user", text: m.text })),
    });
    if (state.contextText.tokenize(target.model.tokenizer).length > tokens) break;
    messages.splice(0, messages.length, ...next);
  }
  return [...messages, { role: "user", text: "Go on." }];
}

export async function benchRepeatPenalty(): Promise<{ creative: number; balanced: number; ratio: number; promptTokens: number }> {
  const llama = await getLlama({ gpu: false, build: "never", maxThreads: 0, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: TINY_RANDOM_MODEL });
  const context = await model.createContext({ contextSize: CONTEXT, threads: 1 });
  const target: GenerationTarget = {
    model,
    sequence: context.getSequence(),
    chatWrapper: resolveChatWrapper(model),
    contextSize: context.contextSize,
    threads: 1,
  };
  const messages = conversation(target, CONVERSATION_TOKENS);
  const control = { onText: () => undefined, isStopRequested: () => false };
  const rate = async (preset: "creative" | "balanced", seed: number) => {
    await target.sequence.clearHistory();
    const { stats } = await generateReply(target, messages, { ...SAMPLING_PRESETS[preset], seed, maxTokens: REPLY_TOKENS }, control);
    return stats;
  };
  const creative: number[] = [];
  const balanced: number[] = [];
  let promptTokens = 0;
  try {
    console.log(
      `\nRepeat penalty on a long conversation (${path.basename(TINY_RANDOM_MODEL)}, 1 thread, ${REPLY_TOKENS}-token replies, ${ROUNDS} alternating rounds)`,
    );
    await rate("balanced", 1); // warm-up
    for (let round = 0; round < ROUNDS; round += 1) {
      const c = await rate("creative", round + 1);
      const b = await rate("balanced", round + 1);
      promptTokens = c.promptTokens;
      creative.push(c.tokensPerSecond);
      balanced.push(b.tokensPerSecond);
    }
  } finally {
    await context.dispose();
    await model.dispose();
    await llama.dispose();
  }
  const result = { creative: median(creative), balanced: median(balanced), ratio: median(creative) / median(balanced), promptTokens };
  console.log(
    `  conversation: ${promptTokens} tokens; Creative ${result.creative.toFixed(1)} tok/s, Balanced ${result.balanced.toFixed(1)} tok/s`,
  );
  console.log(`  Creative ÷ Balanced: ${result.ratio.toFixed(3)}`);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) await benchRepeatPenalty();
