// Measures the machine's memory bandwidth, the ceiling on how fast a model that lives in RAM
// can generate (see compute-cost.ts), and remembers it per machine. The user starts it; it
// copies a buffer much larger than the CPU caches a few times, in a worker thread so the core
// keeps answering the renderer, and keeps the best pass (a disturbance only slows one down).

import os from "node:os";
import { Worker } from "node:worker_threads";
import { z } from "zod";
import { QuantaError } from "../../contract/errors.js";
import type { BandwidthProbe } from "../../contract/types.js";
import { machineKey } from "../engine-client/thread-memory.js";
import { readJsonFile, writeJsonAtomic } from "../settings/json-file.js";

export interface ProbeOptions {
  /** Size of the buffer copied (twice that is allocated). Default 256 MiB, 64 MiB when memory is short. */
  bytes?: number;
  maxPasses?: number;
  /** Passes stop once this much time has gone by (after at least two). */
  budgetMs?: number;
}

const MIB = 1024 * 1024;

// The worker's source, run with `eval` rather than from a file: the same code then runs from
// dist/, under vitest (which runs the core from TypeScript), and inside an asar archive.
// Both buffers are written before timing so their pages exist; each pass is one memcpy
// (Buffer#copy), which reads the source and writes the destination.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { bytes, maxPasses, budgetMs } = workerData;
const source = Buffer.allocUnsafeSlow(bytes).fill(0x5a);
const target = Buffer.allocUnsafeSlow(bytes).fill(0);
const passes = [];
const deadline = performance.now() + budgetMs;
while (passes.length < maxPasses && (passes.length < 2 || performance.now() < deadline)) {
  const started = performance.now();
  source.copy(target);
  passes.push(performance.now() - started);
}
parentPort.postMessage({ passes, check: target[bytes - 1] });
`;

/** Runs the probe: about 0.6 s on the 2-core development machine (256 MiB, 10 passes). */
export function measureMemoryBandwidth(options: ProbeOptions = {}): Promise<BandwidthProbe> {
  const bytes = options.bytes ?? (os.freemem() < 2048 * MIB ? 64 * MIB : 256 * MIB);
  const workerData = { bytes, maxPasses: options.maxPasses ?? 10, budgetMs: options.budgetMs ?? 1000 };
  return new Promise<BandwidthProbe>((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData });
    let settled = false;
    const fail = (detail: string) => {
      if (settled) return;
      settled = true;
      reject(new QuantaError("internal", `The memory bandwidth could not be measured: ${detail}`));
    };
    worker.once("message", (message: { passes: number[]; check: number }) => {
      settled = true;
      const best = Math.min(...message.passes);
      if (!(best > 0) || message.check !== 0x5a) {
        fail("the copy did not run as expected");
        return;
      }
      // Bytes moved count the read and the write, as STREAM's "copy" does.
      const bytesMoved = 2 * bytes;
      resolve({ gbPerSecond: bytesMoved / (best / 1000) / 1e9, bytesMoved, measuredAt: new Date().toISOString() });
      void worker.terminate();
    });
    worker.once("error", (error) => fail(error.message));
    worker.once("exit", (code) => fail(`the measuring thread ended early (code ${code})`));
  });
}

const probeSchema = z.object({
  gbPerSecond: z.number().positive(),
  bytesMoved: z.number().int().positive(),
  measuredAt: z.string(),
});

const fileSchema = z.object({ version: z.literal(1), entries: z.record(z.string(), probeSchema) });

/** The measured bandwidth of each machine this data folder has run on (memory-bandwidth.json). */
export class BandwidthMemory {
  private cached: BandwidthProbe | null | undefined;

  constructor(private readonly file: string) {}

  async recall(): Promise<BandwidthProbe | null> {
    if (this.cached !== undefined) return this.cached;
    const stored = await readJsonFile(this.file, fileSchema, { version: 1, entries: {} });
    this.cached = stored.entries[machineKey()] ?? null;
    return this.cached;
  }

  async remember(probe: BandwidthProbe): Promise<void> {
    const stored = await readJsonFile(this.file, fileSchema, { version: 1, entries: {} });
    stored.entries[machineKey()] = probe;
    await writeJsonAtomic(this.file, stored);
    this.cached = probe;
  }
}
