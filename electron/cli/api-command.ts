// The local API server from the command line: `quanta api` serves it alone (a machine with no
// screen), and `quanta serve --api-port N` next to the browser UI. Flags apply to this run
// only; the saved settings (Server view) stay as they are.

import { parseArgs } from "node:util";
import type { ApiServerSettings } from "../contract/types.js";
import { createCore, type QuantaCore } from "../core/app-core.js";
import { forkEngine } from "../core/engine-client/engine-process.js";
import { resolveHome } from "../core/settings/paths.js";
import { ENGINE_ENTRY, packageVersion } from "./install-paths.js";

export class ApiUsageError extends Error {}

export const API_OPTIONS = {
  "api-port": { type: "string" },
  "api-host": { type: "string" },
  "api-key": { type: "string" },
} as const;

export const API_USAGE = `  quanta api [--api-port N] [--api-host ADDRESS] [--api-key KEY]
                               serve the OpenAI- and Anthropic-compatible API alone (port 8150 by default)
  quanta serve ... --api-port N [--api-host ADDRESS] [--api-key KEY]
                               also serve the API next to the browser UI`;

/** The run's API settings from the flags (none given: nothing). */
export function apiOverrides(values: { "api-port"?: string; "api-host"?: string; "api-key"?: string }): Partial<ApiServerSettings> {
  const overrides: Partial<ApiServerSettings> = {};
  if (values["api-port"] !== undefined) {
    const port = Number(values["api-port"]);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new ApiUsageError(`--api-port must be a whole number from 0 to 65535, not "${values["api-port"]}".`);
    }
    overrides.port = port;
  }
  if (values["api-host"] !== undefined) overrides.host = values["api-host"];
  if (values["api-key"] !== undefined) {
    if (values["api-key"].length < 16) throw new ApiUsageError("--api-key must be at least 16 characters.");
    overrides.apiKey = values["api-key"];
    // A key given on the command line is asked for, on loopback too.
    overrides.requireKeyOnLoopback = true;
  }
  return overrides;
}

/** Starts the API on a core and prints where it is. */
export async function startApi(core: QuantaCore, overrides: Partial<ApiServerSettings>): Promise<void> {
  const state = await core.apiServer.startWith(overrides);
  const { settings, status } = state;
  console.log(`The API is serving at ${status.baseUrl ?? "?"} (OpenAI: /v1/chat/completions, Anthropic: /v1/messages).`);
  const loopback = settings.host === "127.0.0.1" || settings.host === "localhost" || settings.host === "::1";
  if (!loopback || settings.requireKeyOnLoopback) console.log(`API key: ${settings.apiKey}`);
}

export async function apiCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: API_OPTIONS, strict: true });
  const overrides = apiOverrides(values);
  const core = await createCore({
    shell: "headless",
    home: resolveHome(),
    version: packageVersion(),
    spawnEngine: forkEngine(ENGINE_ENTRY),
  });
  try {
    await startApi(core, overrides);
  } catch (error) {
    await core.dispose();
    throw error;
  }
  const stop = () => {
    // The process exits whether or not disposal succeeded, so nothing is left to reject.
    void core.dispose().finally(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
