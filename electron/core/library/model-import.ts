// Imports model files the user chose (in the desktop app, through the main process's own file
// dialog) into Quanta's models folder: copied, moved or linked, as the user prefers. Each file
// is checked to be a GGUF model first; a split model brings all its parts; nothing is overwritten.

import { promises as fs } from "node:fs";
import path from "node:path";
import { QuantaError } from "../../contract/errors.js";
import { readGgufHeader } from "../../common-node/gguf/gguf-reader.js";
import { splitPartNames } from "./quant-names.js";

export type ImportMode = "copy" | "move" | "link";

/** Brings `files` into `<modelsFolder>/imported`; returns the paths of the models' first files. */
export async function importModelFiles(files: readonly string[], mode: ImportMode, modelsFolder: string): Promise<string[]> {
  const target = path.join(modelsFolder, "imported");
  await fs.mkdir(target, { recursive: true });
  const imported: string[] = [];
  for (const chosen of files) {
    const source = path.resolve(chosen);
    const names = splitPartNames(path.basename(source));
    const parts = names === null ? [source] : names.map((name) => path.join(path.dirname(source), name));
    // Check every part before touching anything: a bad file is refused whole.
    for (const part of parts) await readGgufHeader(part);
    for (const part of parts) {
      const destination = path.join(target, path.basename(part));
      if (await exists(destination)) {
        throw new QuantaError("busy", `${path.basename(part)} is already in Quanta's models folder.`);
      }
    }
    for (const part of parts) await bring(part, path.join(target, path.basename(part)), mode);
    imported.push(path.join(target, path.basename(source)));
  }
  return imported;
}

async function bring(source: string, destination: string, mode: ImportMode): Promise<void> {
  if (mode === "link") {
    await fs.symlink(source, destination);
    return;
  }
  if (mode === "move") {
    try {
      await fs.rename(source, destination);
      return;
    } catch (error) {
      // Another disk: copy, then remove the original once the copy is complete.
      if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
      await copyAtomic(source, destination);
      await fs.rm(source);
      return;
    }
  }
  await copyAtomic(source, destination);
}

/** A copy appears under its name only when complete. */
async function copyAtomic(source: string, destination: string): Promise<void> {
  const partial = `${destination}.part`;
  try {
    await fs.copyFile(source, partial);
    await fs.rename(partial, destination);
  } catch (error) {
    await fs.rm(partial, { force: true });
    throw error;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch {
    return false;
  }
}
