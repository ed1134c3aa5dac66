// The models Quanta knows: every *.gguf under the model folders (Quanta's own, the user's,
// LM Studio's) and every model in Ollama's store, described from its header and grouped into
// families. A split GGUF (-00001-of-0000N) is one model. Models are addressed by id; the
// renderer never sends a path.

import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { QuantaError, toWireError } from "../../contract/errors.js";
import type { ModelInspection, ModelSource, ModelSummary } from "../../contract/types.js";
import { describeGguf, readGgufHeader, type GgufHeader } from "../../common-node/gguf/gguf-reader.js";
import { ggufArrayLength } from "../../common-node/gguf/gguf-types.js";
import { groupModelFamilies, tensorSignature, type FamilyMember } from "./model-family.js";
import { loadRefusal } from "./load-check.js";
import { inspectGguf } from "./model-inspector.js";
import { splitPart, splitPartNames, stripQuantSuffix } from "./quant-names.js";

const MAX_DEPTH = 6;

/** Where models are looked for. A folder is searched for *.gguf; `files` are taken as they are (Ollama's blobs). */
export type LibrarySource =
  | { kind: "folder"; source: ModelSource; folder: string }
  | { kind: "files"; source: ModelSource; folder: string; files: Array<{ path: string; displayName: string }> };

export interface LibraryEntry {
  summary: ModelSummary;
  path: string;
  /** Every file of the model, first part first (one path for an ordinary file). */
  partPaths: string[];
  mtimeMs: number;
  /** What families are made from; absent for a file whose header could not be read. */
  family: Omit<FamilyMember, "id" | "fileName">;
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
    const named = entry.name.toLowerCase().endsWith(".gguf");
    // Anything named *.gguf is listed, a folder, pipe or broken link too, with why it is no model.
    if (entry.isDirectory() && named) found.push(full);
    if (entry.isDirectory() && depth < MAX_DEPTH && !entry.name.startsWith(".")) {
      await findGgufFiles(full, depth + 1, found);
    } else if (named) {
      // Later parts of a split model are read with its first part.
      const part = splitPart(entry.name);
      if (part === null || part.index === 1) found.push(full);
    }
  }
  return found;
}

/** Every part's path for a model file (just the file for an ordinary one). */
function partPathsFor(filePath: string): string[] {
  const names = splitPartNames(path.basename(filePath));
  return names === null ? [filePath] : names.map((name) => path.join(path.dirname(filePath), name));
}

interface Described {
  entry: LibraryEntry;
  headers: GgufHeader[];
}

async function describeFile(
  filePath: string,
  origin: { folder: string; source: ModelSource; owned: boolean; displayName?: string },
): Promise<Described | null> {
  let stat: import("node:fs").Stats;
  let notAFile: string | null = null;
  try {
    stat = await fs.stat(filePath);
    if (stat.isDirectory()) notAFile = "It is a folder, not a model file.";
    else if (stat.isFIFO()) notAFile = "It is a named pipe (FIFO), not a model file.";
    else if (!stat.isFile()) notAFile = "It is not a regular file (a device or socket), so it cannot be a model.";
  } catch (error) {
    // Gone since the folder was read: nothing to list. A link that leads nowhere: say so.
    try {
      stat = await fs.lstat(filePath);
    } catch {
      return null;
    }
    const code = (error as NodeJS.ErrnoException).code;
    notAFile =
      code === "ELOOP"
        ? "It is a symbolic link that leads back to itself (a link loop), not a model file."
        : code === "ENOENT"
          ? "It is a symbolic link whose target does not exist."
          : `It cannot be read (${code ?? String(error)}).`;
  }
  const fileName = origin.displayName ?? path.basename(filePath);
  const partPaths = partPathsFor(filePath);
  const base: ModelSummary = {
    id: modelIdFor(filePath),
    name: fileName.replace(/\.gguf$/i, ""),
    fileName,
    folder: origin.folder,
    sizeBytes: stat.size,
    architecture: null,
    quantization: null,
    parameterCount: null,
    contextLength: null,
    hasChatTemplate: false,
    error: null,
    source: origin.source,
    parts: partPaths.length,
    familyId: "",
    familyName: "",
    owned: origin.owned,
  };
  const unreadFamily = { architecture: null, vocabSize: null, tensorSignature: null, declaredName: null };
  if (notAFile !== null) {
    return {
      headers: [],
      entry: {
        path: filePath,
        partPaths,
        mtimeMs: stat.mtimeMs,
        summary: { ...base, sizeBytes: 0, error: { code: "model_invalid", message: `${fileName}: ${notAFile}` } },
        family: unreadFamily,
      },
    };
  }
  try {
    const headers: GgufHeader[] = [];
    for (const part of partPaths) headers.push(await readGgufHeader(part));
    const first = headers[0] as GgufHeader;
    const merged: GgufHeader = { ...first, tensors: headers.flatMap((header) => header.tensors) };
    const info = describeGguf(merged, fileName);
    // Readable but not loadable: listed and inspectable, with the reason; loading is refused.
    const refusal = loadRefusal(merged, info);
    const basename = first.metadata["general.basename"];
    const sizeLabel = first.metadata["general.size_label"];
    const declaredName =
      typeof basename === "string" && basename.trim() !== ""
        ? typeof sizeLabel === "string" && sizeLabel.trim() !== ""
          ? `${basename} ${sizeLabel}`
          : basename
        : // general.name is often just the architecture ("llama"), which names no model.
          typeof first.metadata["general.name"] === "string" && info.name.toLowerCase() !== (info.architecture ?? "").toLowerCase()
          ? stripQuantSuffix(info.name)
          : null;
    return {
      headers,
      entry: {
        path: filePath,
        partPaths,
        mtimeMs: stat.mtimeMs,
        summary: {
          ...base,
          sizeBytes: headers.reduce((sum, header) => sum + header.fileSize, 0),
          name: info.name,
          architecture: info.architecture,
          quantization: info.fileType,
          parameterCount: info.parameterCount,
          contextLength: info.contextLength,
          hasChatTemplate: info.hasChatTemplate,
          error: refusal === null ? null : { code: "model_invalid", message: `${fileName} cannot be loaded. ${refusal}` },
        },
        family: {
          architecture: info.architecture,
          vocabSize: info.vocabSize ?? ggufArrayLength(first.metadata["tokenizer.ggml.tokens"]),
          tensorSignature: tensorSignature(merged.tensors),
          declaredName,
        },
      },
    };
  } catch (error) {
    return {
      headers: [],
      entry: {
        path: filePath,
        partPaths,
        mtimeMs: stat.mtimeMs,
        summary: { ...base, error: toWireError(error, "model_invalid") },
        family: unreadFamily,
      },
    };
  }
}

export class ModelLibrary {
  private entries = new Map<string, LibraryEntry>();

  /** `ownFolder` is Quanta's own models folder: the only place it deletes from. */
  constructor(
    private readonly sources: () => LibrarySource[] | Promise<LibrarySource[]>,
    private readonly ownFolder: string | null = null,
  ) {}

  async scan(): Promise<ModelSummary[]> {
    const next = new Map<string, LibraryEntry>();
    for (const source of await this.sources()) {
      const files =
        source.kind === "folder"
          ? (await findGgufFiles(source.folder)).map((file) => ({ path: file, displayName: undefined }))
          : source.files;
      for (const file of files) {
        const described = await describeFile(file.path, {
          folder: source.folder,
          source: source.source,
          owned: this.owns(file.path),
          ...(file.displayName === undefined ? {} : { displayName: file.displayName }),
        });
        if (described && !next.has(described.entry.summary.id)) next.set(described.entry.summary.id, described.entry);
      }
    }
    assignFamilies(next);
    this.entries = next;
    return this.list();
  }

  list(): ModelSummary[] {
    return [...this.entries.values()]
      .map((entry) => entry.summary)
      .sort((a, b) => a.name.localeCompare(b.name) || a.fileName.localeCompare(b.fileName));
  }

  /** When the model's file was last changed (ms since the epoch), as the last scan saw it; null for an unknown id. */
  modifiedMs(modelId: string): number | null {
    return this.entries.get(modelId)?.mtimeMs ?? null;
  }

  /** Whether a path lies inside Quanta's own models folder. */
  owns(filePath: string): boolean {
    if (this.ownFolder === null) return false;
    const relative = path.relative(path.resolve(this.ownFolder), path.resolve(filePath));
    return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
  }

  /** The entry for an id, checked again on disk: it must still be there and readable. */
  async resolve(modelId: string): Promise<LibraryEntry> {
    const { entry } = await this.fresh(modelId);
    if (entry.summary.error) throw new QuantaError(entry.summary.error.code, entry.summary.error.message);
    return entry;
  }

  /** Everything the model's header says; reads the headers afresh, never the weights. */
  async inspect(modelId: string): Promise<ModelInspection> {
    const started = performance.now();
    const { entry, headers } = await this.fresh(modelId);
    // A header that was read is shown even when the model cannot be loaded.
    if (headers.length === 0 && entry.summary.error) throw new QuantaError(entry.summary.error.code, entry.summary.error.message);
    return inspectGguf({
      modelId,
      fileName: entry.summary.fileName,
      headers,
      readMs: Math.round((performance.now() - started) * 10) / 10,
    });
  }

  /**
   * Deletes a model's files (every part). Only files in Quanta's own models folder: what
   * other apps or the user keep elsewhere is theirs.
   */
  async delete(modelId: string): Promise<void> {
    const known = this.entries.get(modelId);
    if (!known) throw new QuantaError("not_found", "Quanta does not know that model. Refresh the model list.");
    if (!known.partPaths.every((part) => this.owns(part))) {
      throw new QuantaError(
        "invalid_request",
        `${known.summary.fileName} is not in Quanta's own models folder, so Quanta leaves it alone. Delete it where it lives.`,
      );
    }
    for (const part of known.partPaths) await fs.rm(part, { force: true });
    this.entries.delete(modelId);
  }

  private async fresh(modelId: string): Promise<Described> {
    const known = this.entries.get(modelId);
    if (!known) throw new QuantaError("not_found", "Quanta does not know that model. Refresh the model list.");
    const described = await describeFile(known.path, {
      folder: known.summary.folder,
      source: known.summary.source,
      owned: known.summary.owned,
      displayName: known.summary.fileName,
    });
    if (!described) {
      this.entries.delete(modelId);
      throw new QuantaError("not_found", `${known.summary.fileName} is no longer in ${known.summary.folder}.`);
    }
    // The family comes from the last scan: one file cannot change which others share it.
    described.entry.summary.familyId = known.summary.familyId;
    described.entry.summary.familyName = known.summary.familyName;
    this.entries.set(modelId, described.entry);
    return described;
  }
}

function assignFamilies(entries: Map<string, LibraryEntry>): void {
  const families = groupModelFamilies(
    [...entries.values()].map((entry) => ({ id: entry.summary.id, fileName: entry.summary.fileName, ...entry.family })),
  );
  for (const family of families) {
    for (const id of family.memberIds) {
      const entry = entries.get(id);
      if (entry) {
        entry.summary.familyId = family.id;
        entry.summary.familyName = family.name;
      }
    }
  }
}
