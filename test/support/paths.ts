// Where tests find the shared test models and the built app.

import { existsSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: found by walking up, so this works from test/ and from dist/test/. */
function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json")) || path.basename(dir) === "dist") {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("Could not find the repository root above " + import.meta.url);
    dir = parent;
  }
  return dir;
}

export const REPO_ROOT = findRepoRoot();
export const TEST_MODELS = path.resolve(process.env.QUANTA_TEST_MODELS ?? path.join(REPO_ROOT, "..", "shared", "models"));
export const STORIES_MODEL = path.join(TEST_MODELS, "stories260K.gguf");
export const TINY_RANDOM_MODEL = path.join(TEST_MODELS, "llama-2-tiny-random.gguf");

/** The compiled app, built by `npm test` (tsc -b, vite build) before the tests run. */
export const DIST = path.join(REPO_ROOT, "dist");
export const ENGINE_ENTRY = path.join(DIST, "electron", "engine", "host.js");
export const RENDERER_DIR = path.join(DIST, "renderer");
export const CLI_ENTRY = path.join(REPO_ROOT, "bin", "quanta.js");

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `quanta-${prefix}-`));
}
