// Owns the engine's state as the core reports it (starting, idle, loading with progress,
// ready with the loaded model, failed). Talks to lib/api: getEngineState on (re)connect,
// loadModel and unloadModel on request, and the core's "engine" events, which are the source of truth.

import { api, onCoreEvent, type EngineState, type LoadedModel, type ModelLoadChoice } from "../api/index.js";
import { notices } from "./notices.svelte.js";

class EngineStore {
  state = $state.raw<EngineState>({ kind: "starting" });

  /** The model in use, when one is ready. */
  loadedModel: LoadedModel | null = $derived(this.state.kind === "ready" ? this.state.model : null);

  /** The model being loaded or in use: what the model picker should show as chosen. */
  activeModelId: string | null = $derived(
    this.state.kind === "ready" ? this.state.model.modelId : this.state.kind === "loading" ? this.state.modelId : null,
  );

  isLoading = $derived(this.state.kind === "loading");
  /** An unload is on its way to the core. */
  unloading = $state(false);

  constructor() {
    onCoreEvent((event) => {
      if (event.type === "engine") this.state = event.state;
    });
  }

  async refresh(): Promise<void> {
    this.state = await api.getEngineState();
  }

  /** Starts loading a model; progress and the result arrive as engine events. */
  async loadModel(modelId: string, asked: Partial<ModelLoadChoice> = {}): Promise<void> {
    try {
      // A context size of null (the default) is not sent: left out, the core keeps the remembered one.
      const { contextSize, ...options } = asked;
      const model = await api.loadModel({ modelId, ...options, ...(contextSize == null ? {} : { contextSize }) });
      // The "engine" event normally got here first; this covers a missed one, and never
      // overwrites a state that has moved on to another model.
      if (this.state.kind === "loading" && this.state.modelId === model.modelId) {
        this.state = { kind: "ready", model };
      }
    } catch (error) {
      notices.report(error);
    }
  }

  /** Ejects the model in use; the engine reports itself idle. */
  async unloadModel(): Promise<void> {
    this.unloading = true;
    try {
      await api.unloadModel();
    } catch (error) {
      notices.report(error);
    } finally {
      this.unloading = false;
    }
  }
}

export const engine = new EngineStore();
