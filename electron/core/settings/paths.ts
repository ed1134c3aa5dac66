// Where Quanta keeps its data. One resolver for every path; never the working directory.

import os from "node:os";
import path from "node:path";

export const APP_FOLDER_NAME = "Quanta";

/** The platform's app-data folder, the same one Electron's userData uses for "Quanta". */
export function platformDataDir(): string {
  switch (process.platform) {
    case "darwin":
      return path.join(os.homedir(), "Library", "Application Support", APP_FOLDER_NAME);
    case "win32":
      return path.join(process.env.APPDATA ?? path.join(os.homedir(), "AppData", "Roaming"), APP_FOLDER_NAME);
    default:
      return path.join(process.env.XDG_CONFIG_HOME ?? path.join(os.homedir(), ".config"), APP_FOLDER_NAME);
  }
}

/** QUANTA_HOME when set, else the folder the shell suggests (Electron's userData), else the platform's. */
export function resolveHome(shellDefault?: string): string {
  const fromEnv = process.env.QUANTA_HOME;
  if (fromEnv && fromEnv.trim() !== "") return path.resolve(fromEnv);
  return path.resolve(shellDefault ?? platformDataDir());
}

export interface DataPaths {
  home: string;
  models: string;
  chats: string;
  settings: string;
  threadCalibrations: string;
  memoryBandwidth: string;
  /** GPU layers and context size per model, from its last load. */
  loadChoices: string;
  /** The system prompts a person named and saved. */
  systemPrompts: string;
}

export function dataPaths(home: string): DataPaths {
  return {
    home,
    models: path.join(home, "models"),
    chats: path.join(home, "chats"),
    settings: path.join(home, "settings.json"),
    threadCalibrations: path.join(home, "thread-calibrations.json"),
    memoryBandwidth: path.join(home, "memory-bandwidth.json"),
    loadChoices: path.join(home, "load-choices.json"),
    systemPrompts: path.join(home, "system-prompts.json"),
  };
}

/** The app's own models folder first, then each folder in QUANTA_MODELS (path-delimiter separated). */
export function modelFolders(paths: DataPaths, env: NodeJS.ProcessEnv = process.env): string[] {
  const extra = (env.QUANTA_MODELS ?? "")
    .split(path.delimiter)
    .map((folder) => folder.trim())
    .filter((folder) => folder !== "")
    .map((folder) => path.resolve(folder));
  return [...new Set([paths.models, ...extra])];
}
