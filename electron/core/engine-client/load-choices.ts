// Remembers, per model, the GPU layers, context size and other load options (flash attention,
// KV cache type, batch size, mmap/mlock, thread overrides) it was last loaded with, so the next
// load (from any picker, or after a restart) uses them without asking again; and which model
// was loaded last, so the picker offers it first next time. Also checks a choice against the
// model's own header (layers, trained context, head size), so a bad one is refused with figures.

import { z } from "zod";
import {
  batchSizeSchema,
  flashAttentionChoiceSchema,
  gpuLayersChoiceSchema,
  kvCacheTypeSchema,
  loadContextSizeSchema,
  loadThreadsSchema,
  MIN_BATCH_SIZE,
  MIN_LOAD_CONTEXT_SIZE,
  mmapChoiceSchema,
} from "../../contract/api.js";
import { QuantaError } from "../../contract/errors.js";
import type { GpuLayersChoice, KvCacheType, ModelLoadChoice } from "../../contract/types.js";
import { KV_CACHE_BLOCK_SIZE } from "../../contract/kv-cache.js";
import { describeGguf, readGgufHeader } from "../../common-node/gguf/gguf-reader.js";
import { readJsonFile, writeJsonAtomic } from "../settings/json-file.js";

// Choices saved before the other load options existed read with those options' defaults.
const choiceSchema = z
  .object({
    gpuLayers: gpuLayersChoiceSchema,
    contextSize: loadContextSizeSchema.nullable(),
    flashAttention: flashAttentionChoiceSchema.default("auto"),
    kvCacheType: kvCacheTypeSchema.default("F16"),
    batchSize: batchSizeSchema.nullable().default(null),
    mmap: mmapChoiceSchema.default("auto"),
    mlock: z.boolean().default(false),
    threads: loadThreadsSchema.nullable().default(null),
    batchThreads: loadThreadsSchema.nullable().default(null),
  })
  .strict();

const fileSchema = z.object({ version: z.literal(1), models: z.record(z.string(), choiceSchema), lastModelId: z.string().optional() });

type LoadChoicesFile = z.infer<typeof fileSchema>;

export const DEFAULT_LOAD_CHOICE: ModelLoadChoice = {
  gpuLayers: "auto",
  contextSize: null,
  flashAttention: "auto",
  kvCacheType: "F16",
  batchSize: null,
  mmap: "auto",
  mlock: false,
  threads: null,
  batchThreads: null,
};

const CHOICE_KEYS = Object.keys(DEFAULT_LOAD_CHOICE) as (keyof ModelLoadChoice)[];

export class LoadChoices {
  /** Writes one at a time, so two loads in a row cannot lose each other's choice. */
  #writing: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  async recall(modelId: string): Promise<ModelLoadChoice> {
    const stored = await this.#read();
    return stored.models[modelId] ?? DEFAULT_LOAD_CHOICE;
  }

  /** The choice for this load: what was asked now, the rest from the last time. */
  async resolve(modelId: string, asked: Partial<ModelLoadChoice>): Promise<ModelLoadChoice> {
    const last = await this.recall(modelId);
    // A null asked for (batch size, threads) goes back to the default; a field left out keeps the last.
    const choice: ModelLoadChoice = { ...DEFAULT_LOAD_CHOICE, ...last };
    for (const key of CHOICE_KEYS) {
      if (asked[key] !== undefined) Object.assign(choice, { [key]: asked[key] });
    }
    // The context size has no null on the wire: left out, it keeps the last.
    choice.contextSize = asked.contextSize ?? last.contextSize;
    return choice;
  }

  remember(modelId: string, choice: ModelLoadChoice): Promise<void> {
    const write = this.#writing.then(async () => {
      const stored = await this.#read();
      const previous = stored.models[modelId] ?? DEFAULT_LOAD_CHOICE;
      if (CHOICE_KEYS.every((key) => previous[key] === choice[key])) return;
      stored.models[modelId] = choice;
      await writeJsonAtomic(this.file, stored);
    });
    this.#writing = write.catch(() => undefined);
    return write;
  }

  /** The model loaded most recently (null before the first load). */
  async recallLast(): Promise<string | null> {
    return (await this.#read()).lastModelId ?? null;
  }

  rememberLast(modelId: string): Promise<void> {
    const write = this.#writing.then(async () => {
      const stored = await this.#read();
      if (stored.lastModelId === modelId) return;
      stored.lastModelId = modelId;
      await writeJsonAtomic(this.file, stored);
    });
    this.#writing = write.catch(() => undefined);
    return write;
  }

  #read(): Promise<LoadChoicesFile> {
    return readJsonFile(this.file, fileSchema, { version: 1, models: {} });
  }
}

/** What a load choice is checked against, from the model's GGUF header; null where the header does not say. */
export interface ModelLoadFacts {
  /** Repeating blocks plus the output layer, as llama.cpp counts GPU layers (and Will it fit shows them). */
  totalLayers: number | null;
  trainedContextSize: number | null;
  /** Keys' and values' attention head size (a quantized KV cache needs a multiple of its block size). */
  headSizes: number[];
}

const count = (value: unknown): number | null => (typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : null);
const firstCount = (value: unknown): number | null => (Array.isArray(value) ? count(value[0]) : count(value));

export async function modelLoadFacts(filePath: string): Promise<ModelLoadFacts> {
  const header = await readGgufHeader(filePath).catch(() => null);
  if (!header) return { totalLayers: null, trainedContextSize: null, headSizes: [] };
  const description = describeGguf(header, filePath);
  const meta = header.metadata as Record<string, unknown>;
  const arch = description.architecture ?? "";
  const heads = firstCount(meta[`${arch}.attention.head_count`]);
  const perHead = heads !== null && description.embeddingLength !== null ? description.embeddingLength / heads : null;
  const keySize = count(meta[`${arch}.attention.key_length`]) ?? perHead;
  const valueSize = count(meta[`${arch}.attention.value_length`]) ?? perHead;
  return {
    totalLayers: description.layers === null ? null : description.layers + 1,
    trainedContextSize: description.contextLength,
    headSizes: [keySize, valueSize].filter((size): size is number => size !== null),
  };
}

/** Refuses more GPU layers than the model has, so such a choice is never remembered. */
export function checkGpuLayers(asked: GpuLayersChoice | undefined, totalLayers: number | null): void {
  if (typeof asked !== "number" || totalLayers === null || asked <= totalLayers) return;
  throw new QuantaError(
    "invalid_request",
    `This model has ${totalLayers} layers, the output layer included: choose at most ${totalLayers} GPU layers, not ${asked}.`,
    { reason: "gpu_layers_range", max: totalLayers, asked },
  );
}

/** Refuses a context past the one the model was trained with (llama.cpp would quietly use less). */
export function checkContextSize(asked: number | null | undefined, trained: number | null): void {
  if (asked == null || trained === null || asked <= trained) return;
  throw new QuantaError(
    "invalid_request",
    `This model was trained with a context of ${trained} tokens: choose a context size from ${MIN_LOAD_CONTEXT_SIZE} to ${trained}, not ${asked}.`,
    { reason: "context_range", min: MIN_LOAD_CONTEXT_SIZE, max: trained, asked },
  );
}

/** Refuses a KV cache type this load cannot use, before llama.cpp fails on it. */
export function checkKvCacheType(type: KvCacheType, flashAttention: ModelLoadChoice["flashAttention"], facts: ModelLoadFacts): void {
  if (type === "F16") return;
  if (flashAttention === "off") {
    throw new QuantaError(
      "invalid_request",
      `A ${type} KV cache needs flash attention (llama.cpp cannot quantize the values without it): turn flash attention on or to automatic, or choose F16.`,
      { reason: "kv_cache_needs_flash_attention", type },
    );
  }
  const odd = facts.headSizes.find((size) => size % KV_CACHE_BLOCK_SIZE !== 0);
  if (odd !== undefined) {
    throw new QuantaError(
      "invalid_request",
      `This model's attention heads hold ${odd} values, not a multiple of ${KV_CACHE_BLOCK_SIZE}, so a ${type} KV cache cannot hold them: choose F16.`,
      { reason: "kv_cache_head_size", type, headSize: odd, blockSize: KV_CACHE_BLOCK_SIZE },
    );
  }
}

/** Refuses a batch larger than the context it is evaluated in. */
export function checkBatchSize(batchSize: number | null, contextSize: number): void {
  if (batchSize === null || batchSize <= contextSize) return;
  throw new QuantaError(
    "invalid_request",
    `A batch cannot be larger than the context: choose a batch size from ${MIN_BATCH_SIZE} to ${contextSize} tokens, not ${batchSize}.`,
    { reason: "batch_range", min: MIN_BATCH_SIZE, max: contextSize, asked: batchSize },
  );
}

/** The quantized-cache head size problem of a model, for the form (null: Q8_0 and Q4_0 can be used). */
export function quantizedCacheHeadSize(facts: ModelLoadFacts): number | null {
  return facts.headSizes.find((size) => size % KV_CACHE_BLOCK_SIZE !== 0) ?? null;
}
