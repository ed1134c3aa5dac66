// Where the built app's parts are, relative to this compiled file (dist/electron/cli/).

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const PACKAGE_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const RENDERER_DIR = fileURLToPath(new URL("../../renderer/", import.meta.url));
export const ENGINE_ENTRY = fileURLToPath(new URL("../engine/host.js", import.meta.url));
export const ENGINE_BUILD_ENTRY = fileURLToPath(new URL("../engine/engine-build-command.js", import.meta.url));
export const DESKTOP_ENTRY = fileURLToPath(new URL("../main/index.js", import.meta.url));

export function packageVersion(): string {
  const parsed = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version?: unknown };
  return typeof parsed.version === "string" ? parsed.version : "0.0.0";
}
