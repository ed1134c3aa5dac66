// `npm run bench` (lab part): the lab's evaluation and prompt speed against llama.cpp's own
// tools, built from the llama.cpp source node-llama-cpp bundles, on synthetic models with 32k
// and 152k vocabularies, measured in one run, alternating. Prints ratios; absolute numbers
// vary by machine (docs/PERFORMANCE.md has a run's figures).
//
// - evaluation: the lab's teacher-forced pass (the code the lab engine runs: model and
//   context through llama.cpp's C API, then the reference or the comparison pass) ÷
//   llama-perplexity on the same file, text, context and batch size; each at its best count;
// - pp512: node-llama-cpp's context as the app's engine drives it (batch threads) ÷
//   llama-bench pp512 at its best count;
// - time to first token for a 2,000-token prompt, one thread count for both (before) and
//   the batch count for the prompt (after);
// - a comparison of four variants through the core with the reference cached ÷ without.

import { execFile, spawnSync } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { getLlama, LlamaLogLevel, type LlamaModel, type Token } from "node-llama-cpp";
import { readGgufHeader } from "../../electron/common-node/gguf/gguf-reader.js";
import type { QuantType } from "../../electron/common-node/gguf/quant-types.js";
import { modelIdFor } from "../../electron/core/library/model-library.js";
import { builtinTextsDir } from "../../electron/core/lab/eval-texts.js";
import { useBatchThreads } from "../../electron/engine/batch-threads.js";
import { evaluateAgainstReference, evaluateReference } from "../../electron/engine/evaluation.js";
import { NativeEvaluator } from "../../electron/engine/native/llama-evaluator.js";
import { openNativeLlama } from "../../electron/engine/native/llama-library.js";
import { engineBuildText } from "../../electron/contract/engine-build.js";
import { describeBuild } from "../../electron/engine/engine-build.js";
import { getBackend } from "../../electron/engine/model-session.js";
import { quantizeModel } from "../../electron/engine/quantize.js";
import { threadCandidates } from "../../electron/engine/threads.js";
import { copyMetadata, writeGguf, writeSyntheticLlama, type GgufTypedValue } from "../fixtures/gguf-writer.js";
import { startCore } from "../support/core-harness.js";
import { REPO_ROOT, TINY_RANDOM_MODEL } from "../support/paths.js";

const CACHE = process.env.QUANTA_BENCH_CACHE ?? path.join(os.tmpdir(), "quanta-bench");
const CONTEXT = 256;
const ROUNDS = Number(process.env.QUANTA_BENCH_LAB_ROUNDS ?? 3);
const TOOLS = ["llama-perplexity", "llama-bench"] as const;
/** Which parts to run: "evaluation,prompt,cache" (all) by default. */
const PARTS = new Set((process.env.QUANTA_BENCH_LAB_PARTS ?? "evaluation,prompt,cache").split(","));
/** Which synthetic models the evaluation part runs: "32k,152k" (both) by default. */
const MODELS = new Set((process.env.QUANTA_BENCH_LAB_MODELS ?? "32k,152k").split(","));

/** The machine's 1-minute load average, sampled beside each measurement (the bench may share the machine). */
const loads: number[] = [];
function sampleLoad(): void {
  loads.push(os.loadavg()[0] ?? 0);
}
function loadRange(): string {
  const range = `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`;
  loads.length = 0;
  return `load average ${range} on ${os.availableParallelism()} cores`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

// ---------------------------------------------------------------------------------------------
// llama.cpp's tools, built once under the cache

/** The folder holding llama-perplexity and llama-bench, built when missing; null (said why) when they cannot be had. */
function llamaTools(): string | null {
  const source = path.join(CACHE, "llama.cpp");
  const bin = path.join(source, "build", "bin");
  const have = () => TOOLS.every((tool) => existsSync(path.join(bin, tool)));
  if (have()) return bin;
  console.log(`llama.cpp's tools are not in ${bin}; building them from node-llama-cpp's bundled source (10-30 minutes on 2 cores)...`);
  const run = (command: string, args: string[], cwd?: string): boolean => {
    const result = spawnSync(command, args, { cwd, stdio: "inherit" });
    if (result.status !== 0) console.log(`  ${command} ${args.join(" ")} failed (${result.error?.message ?? `exit ${result.status}`})`);
    return result.status === 0;
  };
  const bundle = path.join(REPO_ROOT, "node_modules", "node-llama-cpp", "llama", "gitRelease.bundle");
  const ok =
    (existsSync(path.join(source, "CMakeLists.txt")) || run("git", ["clone", "--quiet", bundle, source])) &&
    run("cmake", ["-B", "build", "-DLLAMA_CURL=OFF", "-DCMAKE_BUILD_TYPE=Release"], source) &&
    run("cmake", ["--build", "build", "--config", "Release", "-j", String(os.availableParallelism()), "--target", ...TOOLS], source);
  if (ok && have()) return bin;
  console.log("COULD NOT BUILD llama.cpp's tools: the ratios against llama-perplexity and llama-bench are not measured in this run.");
  return null;
}

function timed(command: string, args: string[]): Promise<{ ms: number; output: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${path.basename(command)} failed: ${stderr.slice(-2000)}`));
      else resolve({ ms: performance.now() - started, output: `${stdout}\n${stderr}` });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Synthetic models

/** A tokenizer source with `size` tokens: the 32k llama tokenizer, padded with tokens no text contains. */
async function paddedTokenizer(size: number): Promise<string> {
  const file = path.join(CACHE, `tokenizer-${size}.gguf`);
  if (existsSync(file)) return file;
  const header = await readGgufHeader(TINY_RANDOM_MODEL, { keepArraysUpTo: Infinity });
  const metadata = copyMetadata(header, (key) => key.startsWith("tokenizer.")).map(([key, value]): [string, GgufTypedValue] => {
    if (value.type !== "array" || value.itemType === "array") return [key, value];
    const base = value.value.length;
    const extra = Array.from({ length: size - base }, (_, index) => index);
    // Private-use code points: pieces that never occur in a text, so tokenization is the 32k tokenizer's.
    const piece = (index: number): string => String.fromCodePoint(index < 65534 ? 0xf0000 + index : 0x100000 + index - 65534);
    if (key === "tokenizer.ggml.tokens") return [key, { type: "array", itemType: "string", value: [...value.value, ...extra.map(piece)] }];
    if (key === "tokenizer.ggml.scores")
      return [key, { type: "array", itemType: "float32", value: [...value.value, ...extra.map((index) => -1e5 - index)] }];
    if (key === "tokenizer.ggml.token_type")
      return [key, { type: "array", itemType: "int32", value: [...value.value, ...extra.map(() => 1)] }];
    return [key, value];
  });
  await fs.mkdir(CACHE, { recursive: true });
  await writeGguf(`${file}.part`, { metadata: [["general.architecture", { type: "string", value: "llama" }], ...metadata], tensors: [] });
  await fs.rename(`${file}.part`, file);
  return file;
}

interface BenchModel {
  label: string;
  folder: string;
  reference: string;
  variants: Partial<Record<QuantType, string>>;
}

/** An F16 reference and its variants, made once and cached. */
async function syntheticModel(
  label: string,
  vocab: number,
  shape: { embd: number; layers: number; ff: number; heads: number },
  types: QuantType[],
): Promise<BenchModel> {
  const folder = path.join(CACHE, `lab-${label}`);
  await fs.mkdir(folder, { recursive: true });
  const reference = path.join(folder, `${label}-F16.gguf`);
  if (!existsSync(reference)) {
    const tokenizerFrom = vocab === 32000 ? TINY_RANDOM_MODEL : await paddedTokenizer(vocab);
    await writeSyntheticLlama(`${reference}.part`, {
      tokenizerFrom,
      embeddingLength: shape.embd,
      layers: shape.layers,
      feedForwardLength: shape.ff,
      heads: shape.heads,
      contextLength: 4096,
      type: "F16",
      seed: vocab,
      name: label,
    });
    await fs.rename(`${reference}.part`, reference);
  }
  const variants: Partial<Record<QuantType, string>> = {};
  for (const type of types) {
    const file = path.join(folder, `${label}-${type}.gguf`);
    if (!existsSync(file)) await quantizeModel({ input: reference, output: file, type });
    variants[type] = file;
  }
  return { label, folder, reference, variants };
}

// ---------------------------------------------------------------------------------------------
// Evaluation: the lab's pass against llama-perplexity's

/** The lab engine's evaluation of one file: model and context opened, the pass, closed. */
async function labPass(
  file: string,
  role: "reference" | "compare",
  text: string,
  referenceFile: string,
  batchThreads: number,
): Promise<number> {
  const vocab = Number((await readGgufHeader(file)).metadata["llama.vocab_size"]);
  const started = performance.now();
  const evaluator = await NativeEvaluator.open(file, { contextSize: CONTEXT, threads: 1, batchThreads, gpuLayers: 0 });
  try {
    if (role === "reference") await evaluateReference(evaluator, CONTEXT, vocab, text, referenceFile, () => undefined, batchThreads);
    else await evaluateAgainstReference(evaluator, CONTEXT, vocab, text, referenceFile, () => undefined, batchThreads);
  } finally {
    evaluator.dispose();
  }
  return performance.now() - started;
}

async function perplexityPass(
  bin: string,
  file: string,
  role: "reference" | "compare",
  textFile: string,
  logits: string,
  threads: number,
): Promise<number> {
  const common = ["-m", file, "-c", String(CONTEXT), "-b", String(CONTEXT), "-t", String(threads), "-tb", String(threads), "-ngl", "0"];
  const args =
    role === "reference"
      ? [...common, "-f", textFile, "--kl-divergence-base", logits]
      : [...common, "--kl-divergence-base", logits, "--kl-divergence"];
  return (await timed(path.join(bin, "llama-perplexity"), args)).ms;
}

async function benchEvaluation(
  bin: string,
  model: BenchModel,
  text: string,
  textFile: string,
): Promise<{ reference: number; compare: number }> {
  const variant = model.variants.Q4_K_M as string;
  const counts = threadCandidates(os.availableParallelism());
  const lab = { reference: new Map<number, number[]>(), compare: new Map<number, number[]>() };
  const ppl = { reference: new Map<number, number[]>(), compare: new Map<number, number[]>() };
  const push = (map: Map<number, number[]>, threads: number, ms: number) => {
    sampleLoad();
    map.set(threads, [...(map.get(threads) ?? []), ms]);
  };
  // node-llama-cpp's backend and the FFI binding are made once per process (the lab's engine has
  // them from its speed run before it evaluates): not part of any pass's time.
  await openNativeLlama();
  const labLogits = path.join(model.folder, "lab.logits");
  const pplLogits = path.join(model.folder, "ppl.logits");
  for (let round = 0; round < ROUNDS; round++) {
    for (const threads of round % 2 ? [...counts].reverse() : counts) {
      push(lab.reference, threads, await labPass(model.reference, "reference", text, labLogits, threads));
      push(ppl.reference, threads, await perplexityPass(bin, model.reference, "reference", textFile, pplLogits, threads));
      push(lab.compare, threads, await labPass(variant, "compare", text, labLogits, threads));
      push(ppl.compare, threads, await perplexityPass(bin, variant, "compare", textFile, pplLogits, threads));
    }
  }
  const best = (map: Map<number, number[]>): { threads: number; ms: number } =>
    [...map].map(([threads, values]) => ({ threads, ms: median(values) })).reduce((a, b) => (b.ms < a.ms ? b : a));
  const ratios = { reference: 0, compare: 0 };
  for (const role of ["reference", "compare"] as const) {
    const ours = best(lab[role]);
    const theirs = best(ppl[role]);
    ratios[role] = ours.ms / theirs.ms;
    console.log(
      `  ${role === "reference" ? "reference pass" : "variant pass (KLD)"}: lab ${(ours.ms / 1000).toFixed(2)} s at ${ours.threads} thread(s), ` +
        `llama-perplexity ${(theirs.ms / 1000).toFixed(2)} s at ${theirs.threads} → ratio ${ratios[role].toFixed(2)} (target ≤ 1.1)`,
    );
  }
  const perCount = (map: Map<number, number[]>): string =>
    [...map].map(([threads, values]) => `${threads}: ${(median(values) / 1000).toFixed(2)} s`).join(", ");
  for (const role of ["reference", "compare"] as const) {
    console.log(`  ${role} medians by thread count: lab ${perCount(lab[role])}; llama-perplexity ${perCount(ppl[role])}`);
  }
  console.log(`  (${loadRange()})`);
  await fs.rm(labLogits, { force: true });
  await fs.rm(pplLogits, { force: true });
  return ratios;
}

// ---------------------------------------------------------------------------------------------
// Prompt speed: pp512 and time to first token

function promptOf(model: LlamaModel, text: string, length: number): Token[] {
  const tokens = model.tokenize(text);
  const bos = model.tokens.bos;
  return Array.from({ length }, (_, index) => (index === 0 && bos !== null ? bos : (tokens[index % tokens.length] as Token)));
}

async function promptMs(
  model: LlamaModel,
  prompt: Token[],
  threads: number,
  batchThreads: number,
): Promise<{ promptMs: number; firstTokenMs: number }> {
  const context = await model.createContext({ contextSize: Math.max(prompt.length + 64, 512), threads, batchSize: 512 });
  try {
    useBatchThreads(context, { generation: threads, batch: batchThreads });
    const sequence = context.getSequence();
    // A warm-up pass first, as llama-bench makes one: a chat's context is warm after its first prompt.
    await sequence.evaluateWithoutGeneratingNewTokens(prompt.slice(0, 512));
    await sequence.clearHistory();
    const started = performance.now();
    await sequence.evaluateWithoutGeneratingNewTokens(prompt);
    const promptDone = performance.now() - started;
    await sequence.clearHistory();
    const again = performance.now();
    for await (const _token of sequence.evaluate(prompt, { temperature: 0 })) {
      break;
    }
    return { promptMs: promptDone, firstTokenMs: performance.now() - again };
  } finally {
    await context.dispose();
  }
}

async function benchPrompt(bin: string | null, file: string, text: string): Promise<void> {
  const llama = await getLlama({ gpu: false, build: "never", maxThreads: 0, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
  try {
    const counts = threadCandidates(llama.cpuMathCores);
    const generation = 1;
    const p512 = promptOf(model, text, 512);
    const p2000 = promptOf(model, text, 2000);
    const app = new Map<number, number[]>();
    const ttft = { before: [] as number[], after: [] as number[] };
    const bench = new Map<number, number[]>();
    const benchNoFa = new Map<number, number[]>();
    const batch = counts[counts.length - 1] ?? 1;
    for (let round = 0; round < ROUNDS; round++) {
      for (const threads of counts) {
        const { promptMs: ms } = await promptMs(model, p512, generation, threads);
        app.set(threads, [...(app.get(threads) ?? []), (512 * 1000) / ms]);
        sampleLoad();
        if (bin) {
          // llama-bench's defaults (flash attention auto, which is on for the CPU), and with it off as node-llama-cpp's context has it.
          for (const [map, fa] of [
            [bench, "auto"],
            [benchNoFa, "0"],
          ] as const) {
            const { output } = await timed(path.join(bin, "llama-bench"), [
              ...["-m", file, "-p", "512", "-n", "0", "-t", String(threads), "-r", "1", "-fa", fa, "-o", "json"],
            ]);
            const rate =
              (JSON.parse(output.slice(output.indexOf("["), output.lastIndexOf("]") + 1)) as Array<{ avg_ts: number }>)[0]?.avg_ts ?? 0;
            map.set(threads, [...(map.get(threads) ?? []), rate]);
          }
        }
      }
      ttft.before.push((await promptMs(model, p2000, generation, generation)).firstTokenMs);
      ttft.after.push((await promptMs(model, p2000, generation, batch)).firstTokenMs);
    }
    const bestOf = (map: Map<number, number[]>) =>
      [...map].map(([threads, values]) => ({ threads, rate: median(values) })).reduce((a, b) => (b.rate > a.rate ? b : a));
    const ours = bestOf(app);
    console.log(
      `  pp512 through the engine's context (batch threads): ${ours.rate.toFixed(0)} tok/s at ${ours.threads} batch thread(s), generation at ${generation}`,
    );
    if (bin) {
      const theirs = bestOf(bench);
      const noFa = bestOf(benchNoFa);
      console.log(
        `  llama-bench pp512: ${theirs.rate.toFixed(0)} tok/s at ${theirs.threads} thread(s) → ratio ${(ours.rate / theirs.rate).toFixed(2)} (target ≥ 0.9); ` +
          `with flash attention off, as the app's context: ${noFa.rate.toFixed(0)} tok/s at ${noFa.threads} → ratio ${(ours.rate / noFa.rate).toFixed(2)}`,
      );
    }
    console.log(`  (${loadRange()})`);
    console.log(
      `  time to first token, 2,000-token prompt: before (${generation} thread for both) ${(median(ttft.before) / 1000).toFixed(2)} s, ` +
        `after (${batch} for the prompt) ${(median(ttft.after) / 1000).toFixed(2)} s → ${(median(ttft.before) / median(ttft.after)).toFixed(2)}× faster`,
    );
  } finally {
    await model.dispose();
    await llama.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// A comparison of four variants through the core, with and without the reference cached

async function benchCachedComparison(model: BenchModel): Promise<void> {
  const harness = await startCore([model.folder]);
  try {
    await harness.core.api.rescanModels();
    const files = [model.reference, ...Object.values(model.variants)].slice(0, 5);
    const modelIds = files.map((file) => modelIdFor(file));
    const cacheDir = path.join(harness.home, "lab", "reference-cache");
    const run = async (): Promise<number> => {
      const started = performance.now();
      const { runId } = await harness.core.api.startComparison({ modelIds, textId: "english-prose", contextSize: CONTEXT });
      const ended = await harness.waitFor(
        (event): event is Extract<typeof event, { type: "lab.run" }> => event.type === "lab.run" && event.run.id === runId,
        1_800_000,
      );
      if (ended.run.status !== "complete") throw new Error(`the comparison ended ${ended.run.status}: ${ended.run.error?.message ?? ""}`);
      return performance.now() - started;
    };
    const uncached: number[] = [];
    const cached: number[] = [];
    for (let round = 0; round < Math.max(1, ROUNDS - 1); round++) {
      await fs.rm(cacheDir, { recursive: true, force: true });
      uncached.push(await run());
      cached.push(await run());
    }
    console.log(
      `  comparison of ${files.length - 1} variants and the reference: without the cache ${(median(uncached) / 1000).toFixed(1)} s, ` +
        `with the reference cached ${(median(cached) / 1000).toFixed(1)} s → ratio ${(median(cached) / median(uncached)).toFixed(2)}`,
    );
  } finally {
    await harness.close();
  }
}

async function main(): Promise<void> {
  const bin = llamaTools();
  const textFile = path.join(builtinTextsDir(), "english-prose.txt");
  const text = await fs.readFile(textFile, "utf8");
  const models = [
    await syntheticModel("synthetic-32k", 32000, { embd: 768, layers: 12, ff: 2048, heads: 12 }, ["Q4_K_M", "Q8_0", "Q6_K", "Q2_K"]),
    await syntheticModel("synthetic-152k", 152064, { embd: 256, layers: 2, ff: 512, heads: 4 }, ["Q4_K_M", "Q8_0", "Q6_K", "Q2_K"]),
  ];
  console.log(`Engine build: ${engineBuildText(describeBuild(await getBackend()))}`);
  for (const model of PARTS.has("evaluation") ? models.filter((item) => MODELS.has(item.label.replace("synthetic-", ""))) : []) {
    console.log(`\n${model.label}: evaluation, context ${CONTEXT}, batch ${CONTEXT}, ${ROUNDS} alternating rounds`);
    if (bin) await benchEvaluation(bin, model, text, textFile);
    else console.log("  (llama-perplexity missing: not measured)");
  }
  if (PARTS.has("prompt")) {
    console.log(`\nsynthetic-32k Q4_K_M: prompt processing`);
    await benchPrompt(bin, models[0]?.variants.Q4_K_M as string, text);
  }
  if (PARTS.has("cache")) {
    console.log(`\nsynthetic-152k: the reference cache`);
    await benchCachedComparison(models[1] as BenchModel);
  }
}

await main();
