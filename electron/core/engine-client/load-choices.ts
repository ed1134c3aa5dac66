// Remembers, per model, the GPU layers and context size it was last loaded with, so the next
// load (from any picker, or after a restart) uses them without asking again; and which model
// was loaded last, so the picker offers it first next time.

import { z } from "zod";
import { gpuLayersChoiceSchema, loadContextSizeSchema } from "../../contract/api.js";
import { QuantaError } from "../../contract/errors.js";
import type { GpuLayersChoice, ModelLoadChoice } from "../../contract/types.js";
import { describeGguf, readGgufHeader } from "../../common-node/gguf/gguf-reader.js";
import { readJsonFile, writeJsonAtomic } from "../settings/json-file.js";

const choiceSchema = z.object({ gpuLayers: gpuLayersChoiceSchema, contextSize: loadContextSizeSchema.nullable() }).strict();

const fileSchema = z.object({ version: z.literal(1), models: z.record(z.string(), choiceSchema), lastModelId: z.string().optional() });

type LoadChoicesFile = z.infer<typeof fileSchema>;

export const DEFAULT_LOAD_CHOICE: ModelLoadChoice = { gpuLayers: "auto", contextSize: null };

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
    return { gpuLayers: asked.gpuLayers ?? last.gpuLayers, contextSize: asked.contextSize ?? last.contextSize };
  }

  remember(modelId: string, choice: ModelLoadChoice): Promise<void> {
    const write = this.#writing.then(async () => {
      const stored = await this.#read();
      const previous = stored.models[modelId] ?? DEFAULT_LOAD_CHOICE;
      if (previous.gpuLayers === choice.gpuLayers && previous.contextSize === choice.contextSize) return;
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

/**
 * The model's layers as llama.cpp counts GPU layers (and Will it fit shows them): its repeating
 * blocks plus the output layer. Null when the header does not say.
 */
export async function modelLayerCount(filePath: string): Promise<number | null> {
  const header = await readGgufHeader(filePath).catch(() => null);
  const blocks = header ? describeGguf(header, filePath).layers : null;
  return blocks === null ? null : blocks + 1;
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
