// `npm run bench`: Quanta's generation speed through the full path (core + engine process)
// against node-llama-cpp's raw LlamaContextSequence.evaluate with the best thread count,
// measured in one run on the same model. Prints ratios; absolute numbers vary by machine.
//
// Models: stories260K from QUANTA_TEST_MODELS, and a synthetic ~134M-parameter llama
// quantized to Q4_K_M (made once and cached in QUANTA_BENCH_CACHE, default the OS temp folder).

import path from "node:path";
import { getLlama, LlamaLogLevel, resolveChatWrapper, type LlamaContextSequence, type LlamaModel, type Token } from "node-llama-cpp";
import { DEFAULT_CHAT_SETTINGS, resolveSampling } from "../../electron/contract/chat-settings.js";
import { threadCandidates } from "../../electron/engine/threads.js";
import { isDone, startCore, type CoreHarness } from "../support/core-harness.js";
import { STORIES_MODEL } from "../support/paths.js";
import { syntheticQ4 } from "./synthetic-model.js";

const ROUNDS = 9;
const PROMPT = "Once upon a time, in a small village by the sea, there lived a girl who loved boats.";

interface Measured {
  label: string;
  rawBestThreads: number;
  rawGreedy: number;
  rawSampled: number;
  quanta: number;
  quantaThreads: number;
  engineReported: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** The prompt exactly as Quanta builds it: the user's message through the model's chat template. */
function chatPrompt(model: LlamaModel): Token[] {
  const wrapper = resolveChatWrapper(model);
  const state = wrapper.generateContextState({
    chatHistory: [
      { type: "user", text: PROMPT },
      { type: "model", response: [] },
    ],
  });
  return state.contextText.tokenize(model.tokenizer);
}

/** What a new conversation samples with. */
const DEFAULT_SAMPLING = resolveSampling(DEFAULT_CHAT_SETTINGS);

/** Raw evaluate's generation rate for one reply, first token excluded. */
async function rawReply(sequence: LlamaContextSequence, prompt: Token[], tokens: number, seed: number | null): Promise<number> {
  await sequence.clearHistory();
  const options =
    seed === null
      ? { temperature: 0 }
      : {
          temperature: DEFAULT_SAMPLING.temperature,
          topK: DEFAULT_SAMPLING.topK,
          topP: DEFAULT_SAMPLING.topP,
          minP: DEFAULT_SAMPLING.minP,
          seed,
        };
  let count = 0;
  let first = 0;
  for await (const _token of sequence.evaluate(prompt, options)) {
    count += 1;
    if (count === 1) first = performance.now();
    if (count >= tokens) break;
  }
  return ((count - 1) * 1000) / (performance.now() - first);
}

/** Quanta's rate as a client of the core sees it: from sending a message to the reply's done event. */
async function quantaReply(harness: CoreHarness): Promise<{ observed: number; reported: number }> {
  const chat = await harness.core.api.createChat();
  const done = harness.waitFor(isDone(chat.id), 300_000);
  const sentAt = performance.now();
  await harness.core.api.sendMessage({ chatId: chat.id, text: PROMPT });
  const { message } = await done;
  const elapsedMs = performance.now() - sentAt;
  const stats = message.stats;
  if (!stats || stats.generatedTokens < 2) throw new Error(`the reply was too short to time: ${JSON.stringify(stats)}`);
  return {
    observed: ((stats.generatedTokens - 1) * 1000) / (elapsedMs - stats.timeToFirstTokenMs),
    reported: stats.tokensPerSecond,
  };
}

/**
 * Raw evaluate at its best thread count and Quanta's full path on the same model, measured
 * in alternating rounds so that drift in the machine's speed touches both alike.
 */
async function bench(label: string, file: string, tokens: number): Promise<Measured> {
  console.log(`\n${label} (${path.basename(file)}), ${tokens} tokens per reply, ${ROUNDS} alternating rounds`);
  const llama = await getLlama({ gpu: "auto", build: "never", maxThreads: 0, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: file });
  const prompt = chatPrompt(model);
  const contexts = new Map<number, LlamaContextSequence>();
  let best = { threads: 1, rate: 0 };
  for (const threads of threadCandidates(llama.cpuMathCores)) {
    const context = await model.createContext({ contextSize: Math.min(2048, model.trainContextSize), threads });
    const sequence = context.getSequence();
    contexts.set(threads, sequence);
    const rate = median([await rawReply(sequence, prompt, tokens, null), await rawReply(sequence, prompt, tokens, null)]);
    console.log(`  raw evaluate, ${threads} thread(s): ${rate.toFixed(1)} tok/s`);
    if (rate > best.rate) best = { threads, rate };
  }
  for (const [threads, sequence] of contexts) if (threads !== best.threads) await sequence.context.dispose();
  const raw = contexts.get(best.threads) as LlamaContextSequence;

  const harness = await startCore([path.dirname(file)], { sampling: { maxTokens: tokens } });
  const greedy: number[] = [];
  const sampled: number[] = [];
  const observed: number[] = [];
  const reported: number[] = [];
  let quantaThreads: number;
  try {
    await harness.waitForEngine("idle");
    const entry = (await harness.core.api.listModels()).find((model) => model.fileName === path.basename(file));
    if (!entry) throw new Error(`${file} is not in the library`);
    const loaded = await harness.core.api.loadModel({ modelId: entry.id });
    quantaThreads = loaded.threads;
    const trials = loaded.calibration?.trials.map((trial) => `${trial.threads}: ${trial.tokensPerSecond} tok/s`).join(", ");
    console.log(`  Quanta's thread calibration: ${trials ?? "none"} → ${loaded.threads}`);
    for (let round = 0; round < ROUNDS; round += 1) {
      greedy.push(await rawReply(raw, prompt, tokens, null));
      sampled.push(await rawReply(raw, prompt, tokens, round + 1));
      const quanta = await quantaReply(harness);
      observed.push(quanta.observed);
      reported.push(quanta.reported);
    }
  } finally {
    await harness.close();
    await model.dispose();
    await llama.dispose();
  }
  const result: Measured = {
    label,
    rawBestThreads: best.threads,
    rawGreedy: median(greedy),
    rawSampled: median(sampled),
    quanta: median(observed),
    quantaThreads,
    engineReported: median(reported),
  };
  console.log(
    `  raw evaluate, ${best.threads} thread(s): greedy ${result.rawGreedy.toFixed(1)} tok/s, with Quanta's default sampling ${result.rawSampled.toFixed(1)} tok/s`,
  );
  console.log(
    `  Quanta full path, ${quantaThreads} thread(s) (its own choice): ${result.quanta.toFixed(1)} tok/s (engine-reported ${result.engineReported.toFixed(1)})`,
  );
  return result;
}

const results = [await bench("stories260K", STORIES_MODEL, 512), await bench("synthetic 134M Q4_K_M", await syntheticQ4(), 128)];

console.log(
  "\n| model | raw best threads | raw evaluate tok/s | Quanta threads | Quanta full path tok/s | ratio | ratio vs raw with same sampling |",
);
console.log("|---|---|---|---|---|---|---|");
for (const r of results) {
  console.log(
    `| ${r.label} | ${r.rawBestThreads} | ${r.rawGreedy.toFixed(1)} | ${r.quantaThreads} | ${r.quanta.toFixed(1)} | ${(r.quanta / r.rawGreedy).toFixed(3)} | ${(r.quanta / r.rawSampled).toFixed(3)} |`,
  );
}
