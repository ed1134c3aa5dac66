// The lab's work inside an engine process: quantizing a file, and measuring one variant
// (load time, memory, prompt and generation speed, quality on the evaluation text). One
// variant is loaded at a time and disposed before the call returns.

import { LlamaLogLevel, type LlamaModel, type Token } from "node-llama-cpp";
import { QuantaError } from "../contract/errors.js";
import type { ThreadCalibration } from "../contract/types.js";
import { describeBuild } from "./engine-build.js";
import { evaluateAgainstReference, evaluateReference } from "./evaluation.js";
import type { LabEngineApi, LabEngineProgress, LabMeasureRequest, LabMeasurement, LabSpeed } from "./lab-protocol.js";
import { measureFootprint } from "./memory-footprint.js";
import { getBackend } from "./model-session.js";
import { isQuantType, parseQuantRecipe, type QuantType } from "../common-node/gguf/quant-types.js";
import { NativeEvaluator } from "./native/llama-evaluator.js";
import { quantizeDryRun, quantizeModel } from "./quantize.js";

/** llama.cpp's closing line of a (dry) quantization: "quant size  =     0.94 MiB (4.95 BPW)". */
const QUANT_SIZE_LINE = /quant size\s*=\s*([\d.]+)\s*MiB/;
import { continuePrompt, scoredProbabilities, type Continuation } from "./side-by-side.js";
import { useBatchThreads } from "./batch-threads.js";
import { calibrateBatchThreads, calibrateThreads } from "./threads.js";

/** The text's tokens with BOS first where the model adds one, for the speed runs' prompts. */
function textTokens(model: LlamaModel, text: string): { tokens: Token[]; bos: Token | null } {
  const bos = model.tokens.shouldPrependBosToken ? model.tokens.bos : null;
  const body = model.tokenize(text);
  return { tokens: bos === null ? body : [bos, ...body], bos };
}

/** Prompt processing and generation speed in a fresh context, as llama-bench measures pp and tg. */
async function measureSpeed(
  model: LlamaModel,
  threads: number,
  batchThreads: number,
  text: string,
  request: LabMeasureRequest,
): Promise<LabSpeed> {
  const contextSize = Math.min(model.trainContextSize, Math.max(request.promptTokens, request.generateTokens + 1));
  const promptTokens = Math.min(request.promptTokens, contextSize);
  const generateTokens = Math.min(request.generateTokens, contextSize - 1);
  const context = await model.createContext({ contextSize, threads, batchSize: promptTokens });
  // As the chat runs: the prompt with the batch count, generation with the generation count.
  useBatchThreads(context, { generation: threads, batch: batchThreads });
  try {
    const sequence = context.getSequence();
    const { tokens, bos } = textTokens(model, text);
    const first = tokens[0];
    if (first === undefined) throw new QuantaError("invalid_request", "The evaluation text is empty.");
    const prompt: Token[] = Array.from({ length: promptTokens }, (_, index) => tokens[index % tokens.length] ?? first);
    const started = performance.now();
    await sequence.evaluateWithoutGeneratingNewTokens(prompt);
    const promptMs = performance.now() - started;
    await sequence.clearHistory();

    let generated = 0;
    let generationStarted = 0;
    const start: Token[] = [bos ?? first];
    for await (const _token of sequence.evaluate(start, { temperature: 0, yieldEogToken: true })) {
      generated += 1;
      if (generated === 1) generationStarted = performance.now();
      if (generated > generateTokens) break;
    }
    const generationMs = performance.now() - generationStarted;
    return {
      promptTokens,
      promptTokensPerSecond: promptMs > 0 ? (promptTokens * 1000) / promptMs : 0,
      generatedTokens: generated - 1,
      generationTokensPerSecond: generationMs > 0 ? ((generated - 1) * 1000) / generationMs : 0,
    };
  } finally {
    await context.dispose();
  }
}

/** A "quality only" run's speeds: not measured, never 0. */
const NOT_MEASURED: LabSpeed = { promptTokens: null, promptTokensPerSecond: null, generatedTokens: null, generationTokensPerSecond: null };

export function createLabWorker(emit: (progress: LabEngineProgress) => void, emitPiece: (text: string) => void): LabEngineApi {
  return {
    async labCountTokens({ path, text }) {
      const llama = await getBackend();
      // The vocabulary alone: no weights are read.
      const model = await llama.loadModel({ modelPath: path, vocabOnly: true }).catch((error: unknown) => {
        throw new QuantaError(
          "model_load_failed",
          `llama.cpp could not read this model's vocabulary: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
      try {
        // node-llama-cpp tokenizes without the special tokens; llama_tokenize with add_special (what
        // the evaluation calls) adds BOS and EOS where the vocabulary says so, and nothing else.
        const body = model.tokenize(text, false).length;
        return { tokens: body + (model.tokens.shouldPrependBosToken ? 1 : 0) + (model.tokens.shouldAppendEosToken ? 1 : 0) };
      } finally {
        await model.dispose();
      }
    },

    async labPredict({ input, types }) {
      const llama = await getBackend();
      const previous = { level: llama.logLevel, logger: llama.logger };
      let reported: number | null;
      // The total is only in llama.cpp's log: read it there, passing on what would be shown anyway.
      llama.logLevel = LlamaLogLevel.info;
      llama.logger = (level, message) => {
        const match = QUANT_SIZE_LINE.exec(message);
        if (match?.[1]) reported = Math.round(Number(match[1]) * 1024 * 1024);
        else if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) previous.logger(level, message);
      };
      const sizes: Record<string, number | null> = {};
      try {
        for (const type of types) {
          reported = null;
          // A plain type, or a mixed precision recipe ("Q4_K_M+Q8_0").
          const recipe = parseQuantRecipe(type);
          if (!isQuantType(type) && recipe === null) {
            sizes[type] = null;
            continue;
          }
          try {
            await quantizeDryRun(input, recipe?.base ?? (type as QuantType), recipe?.keep ?? null);
            // The log arrives through node-llama-cpp's thread-safe callback: give it a moment.
            // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by the logger callback, which the type checker's narrowing does not follow
            for (let wait = 0; reported === null && wait < 50; wait++) await new Promise((resolve) => setTimeout(resolve, 20));
            sizes[type] = reported;
          } catch {
            sizes[type] = null;
          }
        }
      } finally {
        llama.logLevel = previous.level;
        llama.logger = previous.logger;
      }
      return sizes;
    },

    async labQuantize(request) {
      // node-llama-cpp's backend routes llama.cpp's log through its level filter; without it
      // the quantizer prints every tensor it writes.
      await getBackend().catch(() => undefined);
      const recipe = parseQuantRecipe(request.type);
      const result = await quantizeModel({
        input: request.input,
        output: request.output,
        // quantizeModel checks the name again and words the refusal (importance-matrix types, unknown names).
        type: recipe?.base ?? (request.type as QuantType),
        keep: recipe?.keep ?? null,
        threads: request.threads,
        onProgress: ({ fraction, bytesWritten, bytesExpected }) => emit({ phase: "quantizing", fraction, bytesWritten, bytesExpected }),
      });
      return { bytes: result.bytes };
    },

    async labContinue(request) {
      const llama = await getBackend();
      const model = await llama.loadModel({ modelPath: request.path, gpuLayers: "auto" }).catch((error: unknown) => {
        throw new QuantaError(
          "model_load_failed",
          `llama.cpp could not load this model: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
      const threads = request.threads ?? 1;
      let continuation: Continuation;
      let gpuLayers: number;
      try {
        gpuLayers = model.gpuLayers;
        const contextSize = Math.min(model.trainContextSize, 2048);
        const context = await model.createContext({ contextSize, threads });
        try {
          continuation = await continuePrompt(model, context.getSequence(), request.prompt, request.maxTokens, emitPiece);
        } finally {
          await context.dispose();
        }
      } finally {
        await model.dispose();
      }
      // The heatmap on llama.cpp's C API, with a model of its own: the one above is freed first,
      // so the weights are never held twice.
      const scored = request.referenceTokens ?? continuation.tokens;
      let referenceProbabilities: number[] = [];
      if (scored.length > 0) {
        const evaluator = await NativeEvaluator.open(request.path, {
          contextSize: continuation.input.length + scored.length,
          threads,
          batchThreads: threads,
          gpuLayers,
        });
        try {
          referenceProbabilities = await scoredProbabilities(evaluator, continuation.input, scored);
        } finally {
          evaluator.dispose();
        }
      }
      return { tokens: continuation.tokens, pieces: continuation.pieces, referenceProbabilities };
    },

    async labMeasure(request): Promise<LabMeasurement> {
      const llama = await getBackend();
      const started = performance.now();
      let model: LlamaModel;
      try {
        model = await llama.loadModel({
          modelPath: request.path,
          gpuLayers: "auto",
          onLoadProgress: (fraction) => emit({ phase: "loading", fraction }),
        });
      } catch (error) {
        throw new QuantaError(
          "model_load_failed",
          `llama.cpp could not load this model: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      const loadMs = performance.now() - started;
      try {
        const calibration: ThreadCalibration | null =
          request.threads === null
            ? await calibrateThreads(model, llama.cpuMathCores, (fraction) => emit({ phase: "calibrating", fraction }))
            : null;
        const threads = calibration?.chosen ?? request.threads ?? 1;
        // Under a cap (the chat holds a model) batches are not measured: the chat's replies would
        // skew the trials, and with one core left there is nothing to choose.
        const batchCores = Math.min(llama.cpuMathCores, request.batchThreadsCap ?? Infinity);
        const batchCalibration =
          request.batchThreads == null && request.batchThreadsCap === undefined
            ? await calibrateBatchThreads(model, batchCores, (fraction) => emit({ phase: "calibrating", fraction }))
            : null;
        const batchThreads = Math.max(1, Math.min(batchCalibration?.chosen ?? request.batchThreads ?? batchCores, batchCores));
        // A "quality only" run skips the speed tests (pp and tg); the thread counts are still calibrated and remembered.
        let speed = NOT_MEASURED;
        if (request.speed !== false) {
          emit({ phase: "speed", fraction: 0 });
          speed = await measureSpeed(model, threads, batchThreads, request.text, request);
          emit({ phase: "speed", fraction: 1 });
        }

        const contextSize = Math.min(request.contextSize, model.trainContextSize);
        if (contextSize < request.contextSize) {
          throw new QuantaError(
            "invalid_request",
            `This model was trained on ${model.trainContextSize} tokens of context; choose a context of at most that.`,
          );
        }
        // What the variant occupies at the evaluation's context (batches of 512, as llama-perplexity),
        // read from llama.cpp's buffers: the one footprint every view shows.
        const footprintContext = await model.createContext({ contextSize, threads, batchSize: Math.min(contextSize, 512) });
        const footprint = await measureFootprint(model, footprintContext, llama.gpu !== false).finally(() => footprintContext.dispose());
        const gpuLayers = model.gpuLayers;
        const measurement = (quality: LabMeasurement["quality"]): LabMeasurement => ({
          loadMs: Math.round(loadMs),
          footprint,
          gpuLayers,
          gpu: llama.gpu === false ? null : llama.gpu,
          build: describeBuild(llama),
          threads,
          batchThreads,
          calibration,
          batchCalibration,
          speed,
          quality,
        });
        if (request.role === "speed-only") return measurement(null);
        // The evaluation runs on llama.cpp's C API with a model of its own: free this one first,
        // so the weights are never held twice.
        await model.dispose();
        const evaluator = await NativeEvaluator.open(request.path, {
          contextSize,
          threads,
          batchThreads,
          gpuLayers,
        }).catch((error: unknown) => {
          throw error instanceof QuantaError
            ? error
            : new QuantaError(
                "model_load_failed",
                `llama.cpp could not load this model: ${error instanceof Error ? error.message : String(error)}`,
              );
        });
        try {
          const onProgress = ({ chunk, chunks }: { chunk: number; chunks: number }) =>
            emit({ phase: "evaluating", fraction: chunk / chunks });
          const quality =
            request.role === "reference"
              ? await evaluateReference(
                  evaluator,
                  contextSize,
                  request.vocabSize,
                  request.text,
                  request.referenceFile,
                  onProgress,
                  batchThreads,
                )
              : await evaluateAgainstReference(
                  evaluator,
                  contextSize,
                  request.vocabSize,
                  request.text,
                  request.referenceFile,
                  onProgress,
                  batchThreads,
                );
          return measurement(quality);
        } finally {
          evaluator.dispose();
        }
      } finally {
        await model.dispose();
      }
    },
  };
}
