// Small JSON documents (settings, remembered measurements) written so that a crash or kill
// at any moment leaves either the old or the new file: temp file, fsync, rename, fsync the
// folder; a failed write (a full disk) leaves the old file and no temporary file.

import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import type { z } from "zod";
import { replaceFileAtomic } from "./durable-write.js";

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  await replaceFileAtomic(file, Buffer.from(`${JSON.stringify(value, null, 2)}\n`), temp);
}

/**
 * Reads and validates a JSON document. A missing file gives the fallback; a damaged one is
 * set aside (renamed, never deleted) and gives the fallback, so a bad file cannot block start-up.
 */
export async function readJsonFile<T>(file: string, schema: z.ZodType<T>, fallback: T): Promise<T> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return fallback;
    throw error;
  }
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
  } catch {
    // not JSON: set aside below
  }
  await fs.rename(file, `${file}.damaged-${Date.now()}`).catch(() => undefined);
  return fallback;
}
