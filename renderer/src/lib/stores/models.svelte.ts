// Owns the model library as the core describes it (the GGUF files found in the model
// folders) and which model the picker has selected. Talks to lib/api (listModels,
// rescanModels, "models" events, getLastModel) and reads the engine store to preselect the
// loaded model, else the one loaded last.

import { api, onCoreEvent, type ModelSummary } from "../api/index.js";
import { engine } from "./engine.svelte.js";
import { notices } from "./notices.svelte.js";

class ModelsStore {
  list = $state.raw<ModelSummary[]>([]);
  /** False until the first list has arrived, so "no models" is not claimed too early. */
  known = $state(false);
  selectedId = $state<string | null>(null);
  rescanning = $state(false);
  /** The model loaded most recently, as the core remembers it. */
  #lastUsed: string | null = null;

  selected: ModelSummary | null = $derived(this.list.find((model) => model.id === this.selectedId) ?? null);

  constructor() {
    onCoreEvent((event) => {
      if (event.type === "models") this.#setList(event.models);
    });
  }

  async refresh(): Promise<void> {
    const [list, last] = await Promise.all([api.listModels(), api.getLastModel().catch(() => ({ modelId: null }))]);
    this.#lastUsed = last.modelId;
    this.#setList(list);
  }

  async rescan(): Promise<void> {
    this.rescanning = true;
    try {
      this.#setList(await api.rescanModels());
    } catch (error) {
      notices.report(error);
    } finally {
      this.rescanning = false;
    }
  }

  select(modelId: string | null): void {
    this.selectedId = modelId;
  }

  /** Keeps a still-valid selection; otherwise prefers the engine's model, then the last loaded, then the first usable one. */
  #setList(list: ModelSummary[]): void {
    this.list = list;
    this.known = true;
    const usable = (id: string | null) => list.some((model) => model.id === id && model.error === null);
    if (usable(this.selectedId)) return;
    const active = engine.activeModelId;
    const last = this.#lastUsed;
    this.selectedId = usable(active) ? active : usable(last) ? last : (list.find((model) => model.error === null)?.id ?? null);
  }
}

export const models = new ModelsStore();
