// Owns the Models view's state: which model is being inspected and what its header says,
// the hub search (results, the chosen repository's files), downloads (kept current by
// "download" events), the recommended catalog, and the last error of the view. Talks to
// lib/api; the model list itself stays in the models store, which "models" events refresh.

import {
  api,
  onCoreEvent,
  type CatalogEntry,
  type DownloadJob,
  type HubAddress,
  type ModelFolder,
  type HubFitEstimate,
  type HubRepository,
  type HubRepositoryFiles,
  type ModelInspection,
} from "../api/index.js";
import { LOAD_CONTEXT_SIZE } from "./fit.svelte.js";
import { models } from "./models.svelte.js";

/** A failed call, kept with its code and parameters so it is worded in the language shown (i18n/errors.ts). */
export type LibraryError = { code: string; message: string; params?: unknown };

function asError(error: unknown): LibraryError {
  const { code, message, params } = (typeof error === "object" && error !== null ? error : {}) as {
    code?: unknown;
    message?: unknown;
    params?: unknown;
  };
  return { code: typeof code === "string" ? code : "internal", message: typeof message === "string" ? message : String(error), params };
}

class LibraryStore {
  inspectedId = $state<string | null>(null);
  inspection = $state.raw<ModelInspection | null>(null);
  inspecting = $state(false);

  query = $state("");
  searching = $state(false);
  results = $state.raw<HubRepository[] | null>(null);
  repoFiles = $state.raw<HubRepositoryFiles | null>(null);
  loadingFiles = $state(false);
  /** The hub could not be reached on the last try: downloading needs a connection. */
  offline = $state(false);

  /** Fit estimates for hub files, by "repo/path", at the context models are loaded with. */
  hubFits = $state.raw<Record<string, { estimate: HubFitEstimate | null; failure: LibraryError | null }>>({});
  downloads = $state.raw<DownloadJob[]>([]);
  catalog = $state.raw<CatalogEntry[]>([]);
  hubAddress = $state.raw<HubAddress | null>(null);
  error = $state.raw<LibraryError | null>(null);
  /** The folders searched for models; the ones the user added can be removed. */
  folders = $state.raw<ModelFolder[]>([]);

  constructor() {
    onCoreEvent((event) => {
      if (event.type !== "download") return;
      const { job } = event;
      const others = this.downloads.filter((candidate) => candidate.id !== job.id);
      this.downloads = job.status === "cancelled" ? others : [...others, job].sort((a, b) => a.id.localeCompare(b.id));
    });
  }

  /** What the view needs when it opens (and after a reconnect). */
  async refresh(): Promise<void> {
    try {
      const [downloads, catalog, hubAddress, folders] = await Promise.all([
        api.listDownloads(),
        api.getModelCatalog(),
        api.getHubAddress(),
        api.listModelFolders(),
      ]);
      this.folders = folders;
      this.downloads = downloads;
      this.catalog = catalog;
      this.hubAddress = hubAddress;
    } catch (error) {
      this.error = asError(error);
    }
  }

  async inspect(modelId: string): Promise<void> {
    this.inspectedId = modelId;
    this.inspecting = true;
    try {
      const inspection = await api.inspectModel({ modelId });
      if (this.inspectedId === modelId) this.inspection = inspection;
    } catch (error) {
      this.inspection = null;
      this.error = asError(error);
    } finally {
      this.inspecting = false;
    }
  }

  async search(): Promise<void> {
    this.searching = true;
    this.repoFiles = null;
    try {
      this.results = await api.searchHub({ query: this.query });
      this.offline = false;
      this.error = null;
    } catch (error) {
      this.#failed(error);
    } finally {
      this.searching = false;
    }
  }

  async openRepo(repo: string): Promise<void> {
    this.loadingFiles = true;
    try {
      this.repoFiles = await api.listHubFiles({ repo });
      this.offline = false;
      this.error = null;
    } catch (error) {
      this.#failed(error);
    } finally {
      this.loadingFiles = false;
    }
  }

  async download(repo: string, path: string): Promise<void> {
    try {
      const job = await api.startDownload({ repo, path });
      if (!this.downloads.some((candidate) => candidate.id === job.id)) this.downloads = [...this.downloads, job];
    } catch (error) {
      this.#failed(error);
    }
  }

  async estimateHubFit(repo: string, path: string): Promise<void> {
    const key = `${repo}/${path}`;
    this.hubFits = { ...this.hubFits, [key]: { estimate: null, failure: null } };
    try {
      const estimate = await api.estimateHubFit({ repo, path, contextSize: LOAD_CONTEXT_SIZE });
      this.hubFits = { ...this.hubFits, [key]: { estimate, failure: null } };
    } catch (error) {
      this.hubFits = { ...this.hubFits, [key]: { estimate: null, failure: asError(error) } };
    }
  }

  /** null goes back to Hugging Face. */
  async setHubAddress(url: string | null): Promise<boolean> {
    return this.#call(async () => {
      this.hubAddress = await api.setHubAddress({ url });
      this.results = null;
      this.repoFiles = null;
      this.offline = false;
    });
  }

  async pause(id: string): Promise<void> {
    await this.#call(() => api.pauseDownload({ downloadId: id }));
  }

  async resume(id: string): Promise<void> {
    await this.#call(() => api.resumeDownload({ downloadId: id }));
  }

  async cancel(id: string): Promise<void> {
    await this.#call(() => api.cancelDownload({ downloadId: id }));
  }

  async remove(modelId: string): Promise<void> {
    await this.#call(async () => {
      await api.deleteModel({ modelId });
      if (this.inspectedId === modelId) {
        this.inspectedId = null;
        this.inspection = null;
      }
      await models.refresh();
    });
  }

  async addFolder(path: string): Promise<boolean> {
    return this.#call(async () => {
      await api.addModelFolder({ path });
      this.folders = await api.listModelFolders();
      await models.refresh();
    });
  }

  async removeFolder(path: string): Promise<boolean> {
    return this.#call(async () => {
      await api.removeModelFolder({ path });
      this.folders = await api.listModelFolders();
      await models.refresh();
    });
  }

  /** Desktop only: the main process asks which files; they are copied, moved or linked in. */
  async importFiles(mode: "copy" | "move" | "link"): Promise<void> {
    await this.#call(async () => {
      const imported = await api.importModels({ mode });
      await models.refresh();
      const first = imported[0];
      if (first) await this.inspect(first.id);
    });
  }

  async reveal(modelId: string): Promise<void> {
    await this.#call(() => api.revealModel({ modelId }));
  }

  dismissError(): void {
    this.error = null;
  }

  async #call(action: () => Promise<unknown>): Promise<boolean> {
    try {
      await action();
      // What failed before is not what the user sees now: an old error goes once an action succeeds.
      this.error = null;
      return true;
    } catch (error) {
      this.error = asError(error);
      return false;
    }
  }

  #failed(error: unknown): void {
    const failure = asError(error);
    if (failure.code === "hub_unreachable") this.offline = true;
    this.error = failure;
  }
}

export const library = new LibraryStore();
