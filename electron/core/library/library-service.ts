// The model library as a service of the core: where models are looked for (Quanta's folder,
// the user's folders, QUANTA_MODELS, LM Studio, Ollama), the inspector, deleting, the hub and
// its downloads, and the first-run catalog. app-core creates it and serves its `api`.

import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { CoreApi } from "../../contract/api.js";
import { QuantaError } from "../../contract/errors.js";
import type { CatalogEntry, CoreEvent, ModelSummary } from "../../contract/types.js";
import type { EngineFitEstimate, FitEstimateRequest } from "../../engine/protocol.js";
import { checkBatchSize, checkKvCacheType, modelLoadFacts } from "../engine-client/load-choices.js";
import { DownloadManager, type DownloadManagerOptions } from "../downloads/download-manager.js";
import { HubClient, hubBaseUrl, hubUrlSchema } from "../downloads/hub-client.js";
import { readJsonFile, writeJsonAtomic } from "../settings/json-file.js";
import { modelFolders, type DataPaths } from "../settings/paths.js";
import { ModelLibrary, modelIdFor, type LibrarySource } from "./model-library.js";
import { importModelFiles } from "./model-import.js";
import { findOllamaModels, lmStudioFolders, ollamaFolder } from "./other-apps.js";

export type LibraryApi = Pick<
  CoreApi,
  | "inspectModel"
  | "deleteModel"
  | "addModelFolder"
  | "removeModelFolder"
  | "listModelFolders"
  | "getModelCatalog"
  | "getHubAddress"
  | "setHubAddress"
  | "searchHub"
  | "listHubFiles"
  | "startDownload"
  | "listDownloads"
  | "pauseDownload"
  | "resumeDownload"
  | "cancelDownload"
  | "estimateFit"
  | "importModels"
  | "revealModel"
  | "estimateHubFit"
>;

export interface LibraryServiceOptions {
  paths: DataPaths;
  env?: NodeJS.ProcessEnv;
  /** Sends an event to every renderer. */
  emit: (event: CoreEvent) => void;
  /** The model the engine has loaded, which may not be deleted. */
  loadedModelId: () => string | null;
  /** The engine's estimate of what a model file needs (node-llama-cpp runs only there). */
  engineFit: (request: FitEstimateRequest) => Promise<EngineFitEstimate>;
  /** The desktop shell's file dialog; headless mode has none (the user adds a folder by path instead). */
  pickModelFiles?: () => Promise<string[]>;
  /** The desktop shell's "show in the file manager". */
  revealPath?: (file: string) => void;
  /** Tests make the disk look full, and retry sooner. */
  downloads?: Pick<DownloadManagerOptions, "freeBytes" | "retryDelaysMs">;
}

export interface LibraryService {
  readonly library: ModelLibrary;
  readonly downloads: DownloadManager;
  readonly api: LibraryApi;
  /** The folders searched for *.gguf, Quanta's own first. */
  modelFolders(): string[];
  /** Rescans and tells every renderer. */
  rescan(): Promise<ModelSummary[]>;
  /** Loads the saved folders and downloads, and resumes the downloads that were running. */
  start(): Promise<void>;
  dispose(): Promise<void>;
}

/** library.json: the user's model folders and hub address. */
const settingsSchema = z.object({
  version: z.literal(1),
  folders: z.array(z.string().min(1).max(4096)).max(100),
  hubUrl: hubUrlSchema.nullable().default(null),
});

const catalogSchema = z.object({
  version: z.literal(1),
  models: z
    .array(
      z.object({
        repo: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/),
        file: z.string().regex(/\.gguf$/i),
        sizeBytes: z.number().int().positive(),
        parameters: z.string().min(1).max(20),
        description: z.string().min(1).max(300),
        /** The description in other languages the interface speaks, by language tag. */
        descriptions: z.record(z.string().regex(/^[a-z]{2}(-[A-Z]{2})?$/), z.string().min(1).max(300)).optional(),
      }),
    )
    .max(50),
});

export function createLibraryService(options: LibraryServiceOptions): Promise<LibraryService> {
  // The environment is configuration: read once, at start (a later change to it is not a rescan's business).
  const env = { ...(options.env ?? process.env) };
  const { paths } = options;
  const settingsFile = path.join(paths.home, "library.json");
  let userFolders: string[] = [];
  let hubSetting: string | null = null;

  const folders = (): string[] => [...new Set([...modelFolders(paths, env), ...userFolders])];
  const sources = async (): Promise<LibrarySource[]> => {
    const list: LibrarySource[] = folders().map((folder) => ({
      kind: "folder",
      source: folder === paths.models ? "quanta" : "folder",
      folder,
    }));
    for (const folder of lmStudioFolders(env)) list.push({ kind: "folder", source: "lmstudio", folder });
    const ollama = ollamaFolder(env);
    if (ollama !== null) {
      const found = await findOllamaModels(ollama);
      if (found.length > 0) {
        list.push({
          kind: "files",
          source: "ollama",
          folder: ollama,
          files: found.map((model) => ({ path: model.blobPath, displayName: model.name })),
        });
      }
    }
    return list;
  };

  const library = new ModelLibrary(sources, paths.models);
  const hub = new HubClient(() => hubBaseUrl(env, hubSetting).url);

  const rescan = async (): Promise<ModelSummary[]> => {
    const models = await library.scan();
    options.emit({ type: "models", models });
    return models;
  };

  const downloads = new DownloadManager({
    stateFile: path.join(paths.home, "downloads.json"),
    modelsFolder: paths.models,
    hub,
    onChange: (job) => options.emit({ type: "download", job }),
    onFinished: async (firstFile) => {
      await rescan();
      const id = modelIdFor(firstFile);
      return library.list().some((model) => model.id === id) ? id : null;
    },
    ...options.downloads,
  });

  const saveSettings = () => writeJsonAtomic(settingsFile, { version: 1, folders: userFolders, hubUrl: hubSetting });

  const api: LibraryApi = {
    inspectModel: ({ modelId }) => library.inspect(modelId),
    deleteModel: async ({ modelId }) => {
      if (options.loadedModelId() === modelId) {
        throw new QuantaError("busy", "That model is loaded. Unload it before deleting it.");
      }
      await library.delete(modelId);
      return rescan();
    },
    addModelFolder: async ({ path: given }) => {
      if (!path.isAbsolute(given)) throw new QuantaError("invalid_request", `“${given}” is not a full path; give the folder’s whole path.`);
      const folder = path.resolve(given);
      const stat = await fs.stat(folder).catch(() => null);
      if (!stat) throw new QuantaError("not_found", `There is no folder at ${folder}.`);
      if (!stat.isDirectory()) throw new QuantaError("invalid_request", `${folder} is a file, not a folder.`);
      if (!folders().includes(folder)) {
        userFolders = [...userFolders, folder];
        await saveSettings();
      }
      return rescan();
    },
    removeModelFolder: async ({ path: given }) => {
      const folder = path.resolve(given);
      if (!userFolders.includes(folder)) throw new QuantaError("not_found", `${folder} is not one of the folders you added.`);
      userFolders = userFolders.filter((candidate) => candidate !== folder);
      await saveSettings();
      return rescan();
    },
    listModelFolders: () => Promise.resolve(folders().map((folder) => ({ path: folder, added: userFolders.includes(folder) }))),
    getModelCatalog: () => loadCatalog(),
    getHubAddress: () => Promise.resolve(hubBaseUrl(env, hubSetting)),
    setHubAddress: async ({ url }) => {
      if (url !== null) {
        const parsed = hubUrlSchema.safeParse(url.trim());
        if (!parsed.success)
          throw new QuantaError("invalid_request", `“${url}” is not a hub address: ${parsed.error.issues[0]?.message ?? "invalid"}.`);
        hubSetting = parsed.data.replace(/\/+$/, "");
      } else {
        hubSetting = null;
      }
      await saveSettings();
      return hubBaseUrl(env, hubSetting);
    },
    searchHub: ({ query }) => hub.search(query.trim()),
    listHubFiles: ({ repo }) => hub.listFiles(repo),
    startDownload: async ({ repo, path: filePath }) => {
      const listing = await hub.listFiles(repo);
      const model = listing.groups.flatMap((group) => group.files).find((candidate) => candidate.path === filePath);
      if (!model) throw new QuantaError("not_found", `${repo} has no model file ${filePath}.`);
      return downloads.start(repo, model);
    },
    listDownloads: () => Promise.resolve(downloads.list()),
    pauseDownload: ({ downloadId }) => downloads.pause(downloadId),
    resumeDownload: ({ downloadId }) => downloads.resume(downloadId),
    cancelDownload: ({ downloadId }) => downloads.cancel(downloadId),
    importModels: async ({ mode }) => {
      if (!options.pickModelFiles) {
        throw new QuantaError(
          "invalid_request",
          "Importing through a file dialog needs the desktop app. Here, add the folder that holds the model instead.",
        );
      }
      const chosen = await options.pickModelFiles();
      if (chosen.length === 0) return [];
      const imported = new Set((await importModelFiles(chosen, mode, paths.models)).map((file) => modelIdFor(file)));
      return (await rescan()).filter((model) => imported.has(model.id));
    },
    revealModel: async ({ modelId }) => {
      if (!options.revealPath) throw new QuantaError("invalid_request", "Showing a file in the file manager needs the desktop app.");
      options.revealPath((await library.resolve(modelId)).path);
    },
    estimateHubFit: async ({ repo, path: filePath, contextSize }) => {
      const listing = await hub.listFiles(repo);
      if (!listing.groups.some((group) => group.files.some((file) => file.path === filePath))) {
        throw new QuantaError("not_found", `${repo} has no model file ${filePath}.`);
      }
      // The engine reads the header at the address the hub's redirects led to, each hop checked.
      return { repo, path: filePath, ...(await options.engineFit({ url: await hub.resolveFileUrl(repo, filePath), contextSize })) };
    },
    estimateFit: async ({ modelId, contextSize, ...loadOptions }) => {
      const entry = await library.resolve(modelId);
      // The same checks as a load: a KV cache type or batch size the load would refuse has no estimate.
      if (loadOptions.kvCacheType !== undefined) {
        checkKvCacheType(loadOptions.kvCacheType, loadOptions.flashAttention ?? "auto", await modelLoadFacts(entry.path));
      }
      checkBatchSize(loadOptions.batchSize ?? null, contextSize);
      return { modelId, ...(await options.engineFit({ path: entry.path, contextSize, ...loadOptions })) };
    },
  };

  return Promise.resolve({
    library,
    downloads,
    api,
    modelFolders: folders,
    rescan,
    async start() {
      const saved = await readJsonFile(settingsFile, settingsSchema, { version: 1, folders: [], hubUrl: null });
      userFolders = saved.folders.map((folder) => path.resolve(folder));
      hubSetting = saved.hubUrl;
      await library.scan();
      await downloads.restore();
    },
    dispose: () => downloads.dispose(),
  });
}

/** resources/ beside package.json: found by walking up, so it works from dist/ and from an asar archive. */
function resourcesDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, "package.json")) && existsSync(path.join(dir, "resources"))) return path.join(dir, "resources");
    const parent = path.dirname(dir);
    if (parent === dir) throw new QuantaError("not_found", "Quanta's resources folder is missing.");
    dir = parent;
  }
}

async function loadCatalog(): Promise<CatalogEntry[]> {
  const file = path.join(resourcesDir(), "model-catalog.json");
  const parsed = catalogSchema.safeParse(JSON.parse(await fs.readFile(file, "utf8")));
  if (!parsed.success)
    throw new QuantaError("internal", `The recommended-model catalog is damaged: ${parsed.error.issues[0]?.message ?? "invalid"}.`);
  return parsed.data.models;
}
