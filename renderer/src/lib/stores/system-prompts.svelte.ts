// Owns the saved system prompts as the core keeps them (named, picked for any conversation).
// Talks to lib/api: listSystemPrompts, saveSystemPrompt, deleteSystemPrompt. A failed change
// is handed back to the form, which words it beside the field.

import { api, type SavedSystemPrompt } from "../api/index.js";
import type { ErrorLike } from "../i18n/errors.js";

export type PromptChange<T> = { ok: true; value: T } | { ok: false; error: ErrorLike };

/** What was thrown, as the error wording reads it (a QuantaError's code, message and params). */
const asErrorLike = (error: unknown): ErrorLike => (typeof error === "object" && error !== null ? error : {});

class SystemPromptStore {
  /** By name, as the core lists them. */
  list = $state.raw<SavedSystemPrompt[]>([]);
  /** The list came from the core at least once. */
  known = $state(false);

  async refresh(): Promise<void> {
    try {
      this.list = await api.listSystemPrompts();
      this.known = true;
    } catch {
      // The panel keeps what it had; the next change or opening asks again.
    }
  }

  /** A new prompt (no id) or a change to one. */
  async save(request: { id?: string; name: string; text: string }): Promise<PromptChange<SavedSystemPrompt>> {
    try {
      const value = await api.saveSystemPrompt(request);
      await this.refresh();
      return { ok: true, value };
    } catch (error) {
      return { ok: false, error: asErrorLike(error) };
    }
  }

  async remove(id: string): Promise<PromptChange<null>> {
    try {
      await api.deleteSystemPrompt({ id });
      await this.refresh();
      return { ok: true, value: null };
    } catch (error) {
      return { ok: false, error: asErrorLike(error) };
    }
  }
}

export const systemPrompts = new SystemPromptStore();
