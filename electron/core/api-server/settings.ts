// The API server's settings, kept in the data folder (api-server.json, written atomically).
// A first start makes a random API key.

import path from "node:path";
import { apiServerSettingsSchema, DEFAULT_API_PORT } from "../../contract/api.js";
import type { ApiServerSettings } from "../../contract/types.js";
import { readJsonFile, writeJsonAtomic } from "../settings/json-file.js";
import { generateApiKey } from "./auth.js";

export function apiSettingsFile(home: string): string {
  return path.join(home, "api-server.json");
}

export function defaultApiSettings(): ApiServerSettings {
  return {
    port: DEFAULT_API_PORT,
    host: "127.0.0.1",
    apiKey: generateApiKey(),
    requireKeyOnLoopback: false,
    cors: { enabled: false, origins: [] },
    loadOnRequest: true,
    idleUnloadMinutes: 30,
    startOnLaunch: false,
  };
}

export async function readApiSettings(file: string): Promise<ApiServerSettings> {
  const fallback = defaultApiSettings();
  const settings = await readJsonFile<ApiServerSettings>(file, apiServerSettingsSchema, fallback);
  // The key is made once and kept: a client configured yesterday still works.
  if (settings === fallback) await writeJsonAtomic(file, settings);
  return settings;
}

export function writeApiSettings(file: string, settings: ApiServerSettings): Promise<void> {
  return writeJsonAtomic(file, settings);
}
