// Remembers, per model, the GPU layers and context size it was last loaded with, so the next
// load (from any picker, or after a restart) uses them without asking again; and which model
// was loaded last, so the picker offers it first next time.

import { z } from "zod";
import { gpuLayersChoiceSchema, loadContextSizeSchema } from "../../contract/api.js";
import type { ModelLoadChoice } from "../../contract/types.js";
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
