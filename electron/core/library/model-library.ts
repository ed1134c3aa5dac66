// The models Quanta knows: every *.gguf under the model folders, described from its header.
// Models are addressed by id; the renderer never sends a path.

import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { QuantaError, toWireError } from "../../contract/errors.js";
import type { ModelSummary } from "../../contract/types.js";
import { describeGguf, readGgufHeader } from "./gguf-reader.js";

const MAX_DEPTH = 6;

export interface LibraryEntry {
  summary: ModelSummary;
  path: string;
  mtimeMs: number;
}

export function modelIdFor(filePath: string): string {
  return createHash("sha256").update(path.resolve(filePath)).digest("hex").slice(0, 16);
}

async function findGgufFiles(folder: string, depth = 0, found: string[] = []): Promise<string[]> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await fs.readdir(folder, { withFileTypes: true });
  } catch {
    return found; // a missing or unreadable folder holds no models
  }
  for (const entry of entries) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory() && depth < MAX_DEPTH && !entry.name.startsWith(".")) {
      await findGgufFiles(full, depth + 1, found);
    } else if ((entry.isFile() || entry.isSymbolicLink()) && entry.name.toLowerCase().endsWith(".gguf")) {
      found.push(full);
    }
  }
  return found;
}

async function describeFile(filePath: string, folder: string): Promise<LibraryEntry | null> {
  let stat: import("node:fs").Stats;
  try {
    stat = await fs.stat(filePath);
  } catch {
    return null;
  }
  if (!stat.isFile()) return null;
  const fileName = path.basename(filePath);
  const base: ModelSummary = {
    id: modelIdFor(filePath),
    name: fileName.replace(/\.gguf$/i, ""),
    fileName,
    folder,
    sizeBytes: stat.size,
    architecture: null,
    quantization: null,
    parameterCount: null,
    contextLength: null,
    hasChatTemplate: false,
    error: null,
  };
  try {
    const info = describeGguf(await readGgufHeader(filePath), fileName);
    return {
      path: filePath,
      mtimeMs: stat.mtimeMs,
      summary: {
        ...base,
        name: info.name,
        architecture: info.architecture,
        quantization: info.fileType,
        parameterCount: info.parameterCount,
        contextLength: info.contextLength,
        hasChatTemplate: info.hasChatTemplate,
      },
    };
  } catch (error) {
    return { path: filePath, mtimeMs: stat.mtimeMs, summary: { ...base, error: toWireError(error, "model_invalid") } };
  }
}

export class ModelLibrary {
  private entries = new Map<string, LibraryEntry>();

  constructor(private readonly folders: () => readonly string[]) {}

  async scan(): Promise<ModelSummary[]> {
    const next = new Map<string, LibraryEntry>();
    for (const folder of this.folders()) {
      for (const file of await findGgufFiles(folder)) {
        const entry = await describeFile(file, folder);
        if (entry && !next.has(entry.summary.id)) next.set(entry.summary.id, entry);
      }
    }
    this.entries = next;
    return this.list();
  }

  list(): ModelSummary[] {
    return [...this.entries.values()]
      .map((entry) => entry.summary)
      .sort((a, b) => a.name.localeCompare(b.name) || a.fileName.localeCompare(b.fileName));
  }

  /** The entry for an id, checked again on disk: it must still be there and readable. */
  async resolve(modelId: string): Promise<LibraryEntry> {
    const known = this.entries.get(modelId);
    if (!known) throw new QuantaError("not_found", "Quanta does not know that model. Refresh the model list.");
    const fresh = await describeFile(known.path, known.summary.folder);
    if (!fresh) {
      this.entries.delete(modelId);
      throw new QuantaError("not_found", `${known.summary.fileName} is no longer in ${known.summary.folder}.`);
    }
    this.entries.set(modelId, fresh);
    if (fresh.summary.error) throw new QuantaError(fresh.summary.error.code, fresh.summary.error.message);
    return fresh;
  }
}
