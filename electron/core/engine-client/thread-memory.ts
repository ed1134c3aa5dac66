// Remembers the measured best thread counts (generation, and batches) per model file and
// machine, so calibration runs once, at the first load of a model on this machine.

import os from "node:os";
import { z } from "zod";
import type { ThreadCalibration } from "../../contract/types.js";
import { readJsonFile, writeJsonAtomic } from "../settings/json-file.js";

const calibrationSchema = z.object({
  chosen: z.number().int().min(1),
  trials: z.array(z.object({ threads: z.number().int().min(1), tokensPerSecond: z.number().min(0) })),
  measuredAt: z.string(),
  batch: z
    .object({
      chosen: z.number().int().min(1),
      trials: z.array(z.object({ threads: z.number().int().min(1), tokensPerSecond: z.number().min(0) })),
    })
    .optional(),
});

const fileSchema = z.object({ version: z.literal(1), entries: z.record(z.string(), calibrationSchema) });

/** The machine, as far as thread choice is concerned: CPU model and logical core count. */
export function machineKey(): string {
  const cpus = os.cpus();
  return `${os.platform()}-${os.arch()}-${cpus[0]?.model.trim() ?? "unknown"}-${cpus.length}`;
}

/** The model file, identified without hashing gigabytes: its size and modification time. */
export function modelFileKey(sizeBytes: number, mtimeMs: number, fileName: string): string {
  return `${fileName}:${sizeBytes}:${Math.round(mtimeMs)}`;
}

/** A calibration with a batch count measured separately joined to it; null when there is neither. */
export function withBatch(
  calibration: ThreadCalibration | null,
  batch: ThreadCalibration["batch"] | null | undefined,
): ThreadCalibration | null {
  if (!batch) return calibration;
  if (!calibration) return null;
  return { ...calibration, batch };
}

export class ThreadMemory {
  constructor(private readonly file: string) {}

  async recall(modelKey: string): Promise<ThreadCalibration | null> {
    const stored = await readJsonFile(this.file, fileSchema, { version: 1, entries: {} });
    return stored.entries[`${machineKey()}|${modelKey}`] ?? null;
  }

  async remember(modelKey: string, calibration: ThreadCalibration): Promise<void> {
    const stored = await readJsonFile(this.file, fileSchema, { version: 1, entries: {} });
    stored.entries[`${machineKey()}|${modelKey}`] = calibration;
    await writeJsonAtomic(this.file, stored);
  }
}
