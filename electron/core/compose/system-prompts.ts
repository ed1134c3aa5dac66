// The system prompts a person names and saves, in their own file of Quanta's data folder
// (system-prompts.json, written atomically): checked entry by entry when read, so one damaged
// entry costs only itself, and a damaged file is set aside, never overwritten or deleted.

import { promises as fs } from "node:fs";
import { z } from "zod";
import { newId } from "../../common/ids.js";
import { MAX_SAVED_PROMPTS, savedSystemPromptSchema } from "../../contract/api.js";
import { QuantaError } from "../../contract/errors.js";
import type { SavedSystemPrompt } from "../../contract/types.js";
import { writeJsonAtomic } from "../settings/json-file.js";

const fileSchema = z.object({ version: z.literal(1), prompts: z.array(z.unknown()) });

/** Names are unique as a person reads them: case, width and surrounding spaces aside. */
const nameKey = (name: string): string => name.normalize("NFKC").trim().toLocaleLowerCase();

const byName = (a: SavedSystemPrompt, b: SavedSystemPrompt): number => a.name.localeCompare(b.name);

export class SystemPrompts {
  #prompts: SavedSystemPrompt[] | null = null;
  /** Changes run one at a time, each on the state the one before left. */
  #writing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly warn: (message: string) => void = (message) => console.warn(`quanta: ${message}`),
  ) {}

  async list(): Promise<SavedSystemPrompt[]> {
    await this.#writing;
    return (await this.#load()).toSorted(byName).map((prompt) => ({ ...prompt }));
  }

  /** Saves a new prompt (no id) or a change to one; the name must not be another prompt's. */
  save(request: { id?: string | undefined; name: string; text: string }): Promise<SavedSystemPrompt> {
    return this.#change((prompts) => {
      const name = request.name.trim();
      const clash = prompts.find((prompt) => prompt.id !== request.id && nameKey(prompt.name) === nameKey(name));
      if (clash) {
        throw new QuantaError("name_taken", `A saved system prompt is already called "${clash.name}". Choose another name.`, {
          reason: "system_prompt",
          name: clash.name,
        });
      }
      const now = new Date().toISOString();
      if (request.id === undefined) {
        if (prompts.length >= MAX_SAVED_PROMPTS) {
          throw new QuantaError("invalid_request", `At most ${MAX_SAVED_PROMPTS} system prompts can be saved. Delete one first.`, {
            reason: "too_many_prompts",
            max: MAX_SAVED_PROMPTS,
          });
        }
        const created: SavedSystemPrompt = { id: newId(), name, text: request.text, createdAt: now, updatedAt: now };
        return { prompts: [...prompts, created], result: created };
      }
      const index = prompts.findIndex((prompt) => prompt.id === request.id);
      const existing = prompts[index];
      if (!existing) throw new QuantaError("not_found", "That saved system prompt is not there any more.");
      const updated: SavedSystemPrompt = { ...existing, name, text: request.text, updatedAt: now };
      return { prompts: prompts.with(index, updated), result: updated };
    });
  }

  delete(id: string): Promise<void> {
    return this.#change((prompts) => {
      if (!prompts.some((prompt) => prompt.id === id))
        throw new QuantaError("not_found", "That saved system prompt is not there any more.");
      return { prompts: prompts.filter((prompt) => prompt.id !== id), result: undefined };
    });
  }

  /** Applies a change and writes it; memory changes only once the file has. */
  #change<T>(apply: (prompts: readonly SavedSystemPrompt[]) => { prompts: SavedSystemPrompt[]; result: T }): Promise<T> {
    const run = this.#writing.then(async () => {
      const { prompts, result } = apply(await this.#load());
      try {
        await writeJsonAtomic(this.file, { version: 1, prompts });
      } catch (error) {
        throw new QuantaError("storage_failed", `The system prompts could not be saved: ${(error as Error).message}`);
      }
      this.#prompts = prompts;
      return result;
    });
    this.#writing = run.catch(() => undefined);
    return run;
  }

  async #load(): Promise<SavedSystemPrompt[]> {
    if (this.#prompts !== null) return this.#prompts;
    this.#prompts = await this.#read();
    return this.#prompts;
  }

  /**
   * The file's valid entries. A file that is not the expected document is set aside whole; one
   * with some bad entries keeps the rest, and a copy of it is kept beside it as it was.
   */
  async #read(): Promise<SavedSystemPrompt[]> {
    let text: string;
    try {
      text = await fs.readFile(this.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw new QuantaError("storage_failed", `The saved system prompts could not be read: ${(error as Error).message}`);
    }
    let document: z.infer<typeof fileSchema> | null = null;
    try {
      const parsed = fileSchema.safeParse(JSON.parse(text));
      if (parsed.success) document = parsed.data;
    } catch {
      // not JSON: set aside below
    }
    const aside = `${this.file}.damaged-${Date.now()}`;
    if (document === null) {
      await fs.rename(this.file, aside).catch(() => undefined);
      this.warn(`the saved system prompts were unreadable; the file was set aside as ${aside}`);
      return [];
    }
    const prompts: SavedSystemPrompt[] = [];
    let skipped = 0;
    for (const entry of document.prompts) {
      const parsed = savedSystemPromptSchema.safeParse(entry);
      const taken =
        parsed.success && prompts.some((prompt) => prompt.id === parsed.data.id || nameKey(prompt.name) === nameKey(parsed.data.name));
      if (parsed.success && !taken) prompts.push({ ...parsed.data, name: parsed.data.name.trim() });
      else skipped += 1;
    }
    if (skipped > 0) {
      await fs.copyFile(this.file, aside).catch(() => undefined);
      this.warn(`${skipped} saved system prompt(s) could not be read and were left out; the file as it was is kept as ${aside}`);
    }
    return prompts;
  }
}
