// Where the Lab may write a new variant. Quanta writes only in its data folder and where the
// user said: beside a source in Quanta's own models folder or in a folder the user added
// (when writable); never into another app's store (LM Studio, Ollama: see other-apps.ts) or
// anywhere else, whose variants go to a family folder in Quanta's own models folder.

import { promises as fs, constants } from "node:fs";
import path from "node:path";
import type { BesideRefusal, ModelSource, QuantizeDestination } from "../../contract/types.js";
import { lmStudioFolders, ollamaFolder } from "../library/other-apps.js";
import { dataPaths } from "../settings/paths.js";

export interface VariantSource {
  path: string;
  /** Where the library found it. */
  origin: ModelSource;
  /** The name the library shows for the file (Ollama's blobs are named by hash; this is "model:tag"). */
  fileName: string;
  familyName: string;
}

export interface DestinationRules {
  /** Quanta's own models folder. */
  modelsFolder: string;
  /** Other apps' stores: never written to, whatever the library calls the source. */
  otherAppsFolders: readonly string[];
}

/** Quanta's models folder in this data folder; LM Studio's and Ollama's folders as the environment says. */
export function defaultDestinationRules(home: string, env: NodeJS.ProcessEnv = process.env): DestinationRules {
  const ollama = ollamaFolder(env);
  return { modelsFolder: dataPaths(home).models, otherAppsFolders: [...lmStudioFolders(env), ...(ollama === null ? [] : [ollama])] };
}

export interface Destinations {
  /** The first is the default. */
  destinations: Array<Omit<QuantizeDestination, "existing">>;
  /** Why the source's own folder is not offered; null when it is. */
  besideRefusal: BesideRefusal | null;
}

export function isInside(folder: string, file: string): boolean {
  const relative = path.relative(path.resolve(folder), path.resolve(file));
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
}

/** A name safe as one path segment on every platform ("llama3.2:1b" → "llama3.2-1b"). */
export function safeSegment(name: string, fallback = "model"): string {
  const cleaned = name
    .replace(/[^A-Za-z0-9._ -]+/g, "-")
    .replace(/^[.\s-]+|[.\s-]+$/g, "")
    .slice(0, 80);
  return cleaned === "" ? fallback : cleaned;
}

export async function variantDestinations(source: VariantSource, rules: DestinationRules): Promise<Destinations> {
  const beside = path.dirname(path.resolve(source.path));
  if (isInside(rules.modelsFolder, source.path)) {
    return { destinations: [{ kind: "beside", folder: beside }], besideRefusal: null };
  }
  const family = path.join(path.resolve(rules.modelsFolder), safeSegment(source.familyName || source.fileName.replace(/\.gguf$/i, "")));
  const models = { kind: "models" as const, folder: family };
  if (
    source.origin === "lmstudio" ||
    source.origin === "ollama" ||
    rules.otherAppsFolders.some((folder) => isInside(folder, source.path))
  ) {
    return { destinations: [models], besideRefusal: "other_app" };
  }
  if (source.origin !== "folder") return { destinations: [models], besideRefusal: "not_user_folder" };
  if (!(await writable(beside))) return { destinations: [models], besideRefusal: "not_writable" };
  // A folder the user added: beside the source, as before, unless they choose Quanta's folder.
  return { destinations: [{ kind: "beside", folder: beside }, models], besideRefusal: null };
}

async function writable(folder: string): Promise<boolean> {
  try {
    await fs.access(folder, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
