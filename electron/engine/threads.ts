// Thread counts, for generation and for batches: chosen by measuring, never node-llama-cpp's
// default, which oversubscribes small machines by orders of magnitude (see docs/PERFORMANCE.md).
// The two differ: during a batch the JavaScript thread is idle, so batches gain from every core.

import type { LlamaModel, Token } from "node-llama-cpp";
import type { ThreadCalibration, ThreadTrial } from "../contract/types.js";
import { stepTokens } from "./token-stepper.js";

/**
 * The counts worth trying on a machine with `cores` cores usable for math: every count up
 * to 6 cores, else a spread that always includes all cores and all but one (at most 6 trials).
 */
export function threadCandidates(cores: number): number[] {
  const max = Math.max(1, Math.floor(cores));
  if (max <= 6) return Array.from({ length: max }, (_, index) => index + 1);
  return [...new Set([1, 2, 4, Math.round(max / 2), max - 1, max])].sort((a, b) => a - b);
}

/**
 * Picks the fastest trial. A higher count must beat a lower one by 3 %: measurements are
 * noisy, and fewer threads leave the machine more responsive at the same speed.
 */
export function chooseThreads(trials: readonly ThreadTrial[]): number {
  let best: ThreadTrial | undefined;
  for (const trial of [...trials].sort((a, b) => a.threads - b.threads)) {
    if (!best || trial.tokensPerSecond > best.tokensPerSecond * 1.03) best = trial;
  }
  if (!best) throw new Error("no thread trials to choose from");
  return best.threads;
}

export interface CalibrationBudget {
  /** Tokens generated per trial after one warm-up token. */
  tokens: number;
  /** A trial stops early after this long, so a large model on a slow machine stays quick. */
  maxMsPerTrial: number;
}

export const DEFAULT_CALIBRATION_BUDGET: CalibrationBudget = { tokens: 32, maxMsPerTrial: 1000 };

/** Generation speed at one thread count, through the same loop the chat uses. */
async function measureTrial(model: LlamaModel, threads: number, budget: CalibrationBudget): Promise<number> {
  const context = await model.createContext({ contextSize: Math.min(256, model.trainContextSize), threads });
  try {
    const sequence = context.getSequence();
    const bos = model.tokens.bos;
    const prompt: Token[] = bos === null ? model.tokenize("Once upon a time") : [bos, ...model.tokenize("Once upon a time")];
    const room = context.contextSize - prompt.length - 2;
    const target = Math.max(2, Math.min(budget.tokens, room));
    let generated = 0;
    let started = 0;
    const options = { temperature: 0, yieldEogToken: true };
    for await (const _token of stepTokens(sequence, prompt, options) ?? sequence.evaluate(prompt, options)) {
      generated += 1;
      if (generated === 1) {
        started = performance.now();
        continue;
      }
      if (generated > target || performance.now() - started > budget.maxMsPerTrial) break;
    }
    const elapsed = performance.now() - started;
    return elapsed > 0 ? ((generated - 1) * 1000) / elapsed : 0;
  } finally {
    await context.dispose();
  }
}

/**
 * Measures generation at each candidate count and picks the fastest. A warm-up run first
 * pages the weights in; then two passes in opposite orders, keeping each count's best, so a
 * passing disturbance (another program, a page fault) cannot make a count look slow.
 */
export async function calibrateThreads(
  model: LlamaModel,
  cores: number,
  onProgress: (fraction: number) => void,
  budget: CalibrationBudget = DEFAULT_CALIBRATION_BUDGET,
): Promise<ThreadCalibration> {
  let candidates = threadCandidates(cores);
  await measureTrial(model, 1, { tokens: 4, maxMsPerTrial: budget.maxMsPerTrial });
  const best = new Map<number, number>();
  const record = (threads: number, rate: number) => best.set(threads, Math.max(best.get(threads) ?? 0, rate));

  // First pass, fewest threads first: speed falls off steeply once threads contend, so
  // counts past one that runs at under half the best so far are not worth trying.
  for (const [index, threads] of candidates.entries()) {
    record(threads, await measureTrial(model, threads, budget));
    onProgress((index + 1) / (candidates.length * 2));
    const fastest = Math.max(...best.values());
    if ((best.get(threads) ?? 0) < fastest * 0.5) {
      candidates = candidates.slice(0, index + 1);
      break;
    }
  }
  for (const [index, threads] of [...candidates].reverse().entries()) {
    record(threads, await measureTrial(model, threads, budget));
    onProgress((candidates.length + index + 1) / (candidates.length * 2));
  }
  onProgress(1);

  const trials: ThreadTrial[] = candidates.map((threads) => ({
    threads,
    tokensPerSecond: Math.round((best.get(threads) ?? 0) * 10) / 10,
  }));
  return { chosen: chooseThreads(trials), trials, measuredAt: new Date().toISOString() };
}

/** Tokens in each batch-calibration trial: long enough to be a batch, short enough to stay quick. */
const BATCH_TRIAL_TOKENS = 128;

/** Prompt-processing speed at one thread count: one batch decoded in a fresh context. */
async function measureBatchTrial(model: LlamaModel, threads: number, tokens: number): Promise<number> {
  const context = await model.createContext({
    contextSize: Math.min(Math.max(tokens, 256), model.trainContextSize),
    threads,
    batchSize: tokens,
  });
  try {
    const sequence = context.getSequence();
    const text = model.tokenize("Once upon a time, in a small village by the sea, there lived a girl who loved boats and the wind. ");
    const filler = text.length > 0 ? text : [model.tokens.bos ?? (0 as Token)];
    const prompt: Token[] = Array.from(
      { length: Math.min(tokens, context.contextSize - 1) },
      (_, index) => filler[index % filler.length] as Token,
    );
    const started = performance.now();
    await sequence.evaluateWithoutGeneratingNewTokens(prompt);
    const elapsed = performance.now() - started;
    return elapsed > 0 ? (prompt.length * 1000) / elapsed : 0;
  } finally {
    await context.dispose();
  }
}

/**
 * Measures prompt processing at each candidate count and picks the fastest, as
 * calibrateThreads does for generation: two passes in opposite orders, each count's best kept.
 */
export async function calibrateBatchThreads(
  model: LlamaModel,
  cores: number,
  onProgress: (fraction: number) => void,
  tokens: number = BATCH_TRIAL_TOKENS,
): Promise<{ chosen: number; trials: ThreadTrial[] }> {
  const candidates = threadCandidates(cores);
  const size = Math.max(2, Math.min(tokens, model.trainContextSize - 1));
  await measureBatchTrial(model, candidates[candidates.length - 1] ?? 1, Math.min(size, 32)); // pages the weights in
  const best = new Map<number, number>();
  const order = [...candidates, ...[...candidates].reverse()];
  for (const [index, threads] of order.entries()) {
    best.set(threads, Math.max(best.get(threads) ?? 0, await measureBatchTrial(model, threads, size)));
    onProgress((index + 1) / order.length);
  }
  const trials: ThreadTrial[] = candidates.map((threads) => ({ threads, tokensPerSecond: Math.round((best.get(threads) ?? 0) * 10) / 10 }));
  return { chosen: chooseThreads(trials), trials };
}
