// Read-only discovery of models other apps already downloaded, so nobody downloads a model
// twice: LM Studio's models folders (plain GGUF files) and Ollama's blob store, read through
// its manifests (the manifest's model layer names the blob that is the GGUF file).
// Quanta never writes to or deletes from these places.

import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";

/** The models folders LM Studio has used: QUANTA_LMSTUDIO_MODELS (path-delimiter separated) overrides them. */
export function lmStudioFolders(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string[] {
  const override = env.QUANTA_LMSTUDIO_MODELS;
  if (override !== undefined) return splitList(override);
  return [path.join(home, ".lmstudio", "models"), path.join(home, ".cache", "lm-studio", "models")];
}

/** Ollama's models folder: OLLAMA_MODELS when set (as Ollama itself honours it), else ~/.ollama/models. */
export function ollamaFolder(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string | null {
  const override = env.OLLAMA_MODELS;
  if (override !== undefined) return override.trim() === "" ? null : path.resolve(override);
  return path.join(home, ".ollama", "models");
}

const MODEL_LAYER = "application/vnd.ollama.image.model";

const manifestSchema = z.object({
  layers: z
    .array(
      z.object({
        mediaType: z.string(),
        digest: z.string().regex(/^sha256[:-][0-9a-f]{64}$/),
        size: z.number().int().nonnegative().optional(),
      }),
    )
    .max(1000),
});

export interface OllamaModel {
  /** "llama3.2:1b", or "namespace/model:tag" outside the default "library" namespace. */
  name: string;
  blobPath: string;
}

/**
 * Every model Ollama has pulled: manifests/<registry>/<namespace>/<model>/<tag> (JSON) whose
 * model layer is blobs/sha256-<hex>. A manifest that is not JSON, has no model layer, or points
 * at a missing blob is skipped: it is Ollama's business, not an error of Quanta's.
 */
export async function findOllamaModels(folder: string): Promise<OllamaModel[]> {
  const manifests = path.join(folder, "manifests");
  const found: OllamaModel[] = [];
  for (const registry of await subfolders(manifests)) {
    for (const namespace of await subfolders(path.join(manifests, registry))) {
      for (const model of await subfolders(path.join(manifests, registry, namespace))) {
        const tagsDir = path.join(manifests, registry, namespace, model);
        let tags: string[];
        try {
          tags = (await fs.readdir(tagsDir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
        } catch {
          continue;
        }
        for (const tag of tags) {
          const blob = await modelBlob(path.join(tagsDir, tag), folder);
          if (blob === null) continue;
          const prefix = registry === "registry.ollama.ai" && namespace === "library" ? "" : `${namespace}/`;
          found.push({ name: `${prefix}${model}:${tag}`, blobPath: blob });
        }
      }
    }
  }
  return found;
}

async function modelBlob(manifestPath: string, folder: string): Promise<string | null> {
  try {
    const text = await fs.readFile(manifestPath, "utf8");
    const parsed = manifestSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return null;
    const layer = parsed.data.layers.find((candidate) => candidate.mediaType === MODEL_LAYER);
    if (!layer) return null;
    const blob = path.join(folder, "blobs", `sha256-${layer.digest.slice(7)}`);
    const stat = await fs.stat(blob);
    return stat.isFile() ? blob : null;
  } catch {
    return null;
  }
}

async function subfolders(folder: string): Promise<string[]> {
  try {
    return (await fs.readdir(folder, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

function splitList(value: string): string[] {
  return value
    .split(path.delimiter)
    .map((folder) => folder.trim())
    .filter((folder) => folder !== "")
    .map((folder) => path.resolve(folder));
}
