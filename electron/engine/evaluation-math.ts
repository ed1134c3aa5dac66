// The arithmetic of llama.cpp's llama-perplexity (tools/perplexity/perplexity.cpp), with its
// definitions: context windows of n_ctx tokens, the first token of each replaced by BOS where
// the model adds one, only the second half of each window scored; the reference's log-probs
// kept compactly (llama.cpp's --kl-divergence-base format: per position a scale and a minimum
// as two float32, then one uint16 per vocabulary entry); KL divergence skips reference
// log-probs under -16, as llama.cpp does. Pure: no node-llama-cpp, testable on its own.

/** llama-perplexity's windows over a tokenized text. */
export interface ChunkPlan {
  contextSize: number;
  chunks: number;
  /** Index within a window of the first position whose next-token prediction is scored. */
  first: number;
  /** Scored predictions per window: positions first .. contextSize-2 predict tokens first+1 .. contextSize-1. */
  scoredPerChunk: number;
}

/** n_chunk = tokens / n_ctx (whole windows only), first = n_ctx / 2. */
export function planChunks(tokenCount: number, contextSize: number): ChunkPlan {
  const first = Math.floor(contextSize / 2);
  return { contextSize, chunks: Math.floor(tokenCount / contextSize), first, scoredPerChunk: contextSize - 1 - first };
}

/** uint16 slots per scored position in the compact format: two float32 then the vocabulary, padded to even. */
export function compactSlots(vocabSize: number): number {
  return 2 * Math.floor((vocabSize + 1) / 2) + 4;
}

/** Logits as the hot loops read them: a typed array of the whole vocabulary, or numbers in tests. */
type Logits = ArrayLike<number>;

/** The log-sum-exp of logits as llama.cpp computes it: max in float, sum of exp in double; with the minimum, in the same pass. */
function maxAndLogSumExp(logits: Logits): { max: number; maxIndex: number; min: number; logSumExp: number } {
  const n = logits.length;
  let max = n > 0 ? (logits[0] as number) : 0;
  let min = max;
  let maxIndex = 0;
  for (let i = 1; i < n; i++) {
    const value = logits[i] as number;
    if (value > max) {
      max = value;
      maxIndex = i;
    } else if (value < min) min = value;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp((logits[i] as number) - max);
  return { max, maxIndex, min, logSumExp: Math.log(sum) };
}

/** Negative log-likelihood of `token` under the logits. */
export function negativeLogLikelihood(logits: Logits, token: number): number {
  const { max, logSumExp } = maxAndLogSumExp(logits);
  return max + logSumExp - (logits[token] ?? -Infinity);
}

/** The probability (softmax) of `token` under the logits. */
export function tokenProbability(logits: Logits, token: number): number {
  return Math.exp(-negativeLogLikelihood(logits, token));
}

/** A compact row's header and its quantization, in float32 as llama-perplexity computes them (log_softmax in perplexity.cpp). */
export function compactHeader(
  max: number,
  min: number,
  logSumExp: number,
): { minLogit: number; minLogProb: number; scale: number; inverseScale: number } {
  const minLogit = Math.max(min, Math.fround(max - 16));
  const lse = Math.fround(logSumExp);
  const minLogProb = Math.fround(Math.fround(minLogit - max) - lse);
  const scale = Math.fround(Math.fround(max - minLogit) / 65535);
  return { minLogit, minLogProb, scale, inverseScale: scale > 0 ? Math.fround(1 / scale) : 0 };
}

/** One entry's level: logit > minLogit ? nearest_int(inverseScale · (logit − minLogit)) : 0, in float32 (ties to even). */
export function compactLevel(logit: number, minLogit: number, inverseScale: number): number {
  if (!(logit > minLogit)) return 0;
  const scaled = Math.fround(inverseScale * Math.fround(logit - minLogit));
  // llama.cpp's nearest_int: adding 1.5 · 2^23 in float32 rounds to the nearest integer, ties to even.
  const level = Math.fround(scaled + 12582912) - 12582912;
  return level > 65535 ? 65535 : level;
}

/**
 * Writes the reference's log-probs for one position into `out` (compactSlots(vocab) uint16s),
 * as llama-perplexity --kl-divergence-base does, and returns the NLL of `token`.
 */
export function encodeReferencePosition(logits: Logits, token: number, out: Uint16Array): number {
  const { max, min, logSumExp } = maxAndLogSumExp(logits);
  const { minLogit, minLogProb, scale, inverseScale } = compactHeader(max, min, logSumExp);
  const header = new Float32Array(out.buffer, out.byteOffset, 2);
  header[0] = scale;
  header[1] = minLogProb;
  const n = logits.length;
  if (scale > 0) {
    for (let i = 0; i < n; i++) out[4 + i] = compactLevel(logits[i] as number, minLogit, inverseScale);
  } else {
    out.fill(0, 4, 4 + n);
  }
  return max + logSumExp - (logits[token] ?? -Infinity);
}

/** One scored position of a variant against the reference. */
export interface PositionScore {
  nll: number;
  kld: number;
  sameTop: boolean;
}

/** Decodes one reference log-prob from the compact format. */
export function referenceLogProb(reference: Uint16Array, index: number): number {
  const header = new Float32Array(reference.buffer, reference.byteOffset, 2);
  return (header[0] ?? 0) * (reference[4 + index] ?? 0) + (header[1] ?? 0);
}

/** KL(reference ‖ variant) at one position, the NLL of `token` and whether both put the same token on top. */
export function scoreAgainstReference(logits: Logits, token: number, reference: Uint16Array): PositionScore {
  const { max, maxIndex, logSumExp } = maxAndLogSumExp(logits);
  const header = new Float32Array(reference.buffer, reference.byteOffset, 2);
  const scale = header[0] ?? 0;
  const minLogProb = header[1] ?? 0;
  const norm = max + logSumExp;
  const n = logits.length;
  let kld = 0;
  let topIndex = 0;
  let topLevel = -1;
  for (let i = 0; i < n; i++) {
    const level = reference[4 + i] as number;
    // The top log-prob is the top level (scale ≥ 0): compare integers, as the first maximum wins.
    if (level > topLevel) {
      topLevel = level;
      topIndex = i;
    }
    const base = scale * level + minLogProb;
    if (base > -16) kld += Math.exp(base) * (base - ((logits[i] as number) - norm));
  }
  return { nll: norm - (logits[token] ?? -Infinity), kld, sameTop: topIndex === maxIndex };
}

/** Mean, median, 99th percentile and maximum of per-token KL divergences. */
export interface KldSummary {
  mean: number;
  median: number;
  p99: number;
  max: number;
}

/** One variant's figures over the text (the core gets these through lab-protocol.ts). */
export interface EvaluationQuality {
  /** Tokens of the whole text (BOS included where the model adds one). */
  tokens: number;
  chunks: number;
  scoredTokens: number;
  perplexity: number;
  /** Null for the reference itself. */
  kld: KldSummary | null;
  sameTopRate: number | null;
}

/**
 * As llama-perplexity reports them: the median is the middle value (the mean of the two
 * middle ones for an even count); percentiles interpolate linearly at p × (n − 1).
 */
export function summarizeKld(values: ArrayLike<number>): KldSummary {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (n === 0) return { mean: 0, median: 0, p99: 0, max: 0 };
  const value = (index: number): number => sorted[Math.min(index, n - 1)] ?? 0;
  const percentile = (fraction: number): number => {
    const position = fraction * (n - 1);
    const index = Math.floor(position);
    const part = position - index;
    return (1 - part) * value(index) + part * value(index + 1);
  };
  const median = n % 2 === 0 ? 0.5 * (value(n / 2) + value(n / 2 - 1)) : value((n - 1) / 2);
  let sum = 0;
  for (const item of sorted) sum += item;
  return { mean: sum / n, median, p99: percentile(0.99), max: value(n - 1) };
}
