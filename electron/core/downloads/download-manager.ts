// Downloads models from the hub into Quanta's models folder, one at a time: each file goes to
// a `.part` beside its destination, resumed with HTTP Range, retried with backoff on network
// errors, verified against the SHA-256 the hub publishes, and only then renamed into place
// (every part of a split model together, the first part last), which is what makes the model
// visible to the library. The job list is saved atomically, so a restart resumes where it was.

import { createHash } from "node:crypto";
import { createReadStream, promises as fs } from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { z } from "zod";
import { QuantaError, toWireError } from "../../contract/errors.js";
import type { WireError } from "../../contract/errors.js";
import type { DownloadJob, DownloadStatus, HubModelFile } from "../../contract/types.js";
import { newId } from "../../common/ids.js";
import { readJsonFile, writeJsonAtomic } from "../settings/json-file.js";
import { describeNetworkError, repoFilePathSchema, repoIdSchema, type HubClient } from "./hub-client.js";
import { TransferRate } from "./transfer-rate.js";
import { writeAll } from "../settings/durable-write.js";

const fileSchema = z.object({
  path: repoFilePathSchema,
  sizeBytes: z.number().int().nonnegative(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
});

const jobSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]+$/),
  repo: repoIdSchema,
  files: z.array(fileSchema).min(1).max(256),
  status: z.enum(["queued", "downloading", "paused", "verifying", "done", "failed", "cancelled"]),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  modelId: z.string().nullable(),
});

const stateSchema = z.object({ version: z.literal(1), jobs: z.array(jobSchema).max(1000) });

type SavedJob = z.infer<typeof jobSchema>;

export interface DownloadManagerOptions {
  /** Where the job list is saved (downloads.json in Quanta's data folder). */
  stateFile: string;
  /** Quanta's own models folder; downloads go to <folder>/<owner>/<repo>/<path>. */
  modelsFolder: string;
  hub: HubClient;
  /** Called whenever a job changes (throttled while bytes arrive). */
  onChange: (job: DownloadJob) => void;
  /** Called once a model's files are in place; returns its id in the library. */
  onFinished: (firstFilePath: string) => Promise<string | null>;
  /** Free bytes on the disk holding `folder`; fs.statfs by default (tests make a disk look full). */
  freeBytes?: (folder: string) => Promise<number>;
  /** Waits before each retry after a network error; default 1, 2, 4, 8, 16 s. */
  retryDelaysMs?: readonly number[];
  /** Smallest time between two progress events of one job; default 250 ms. */
  progressIntervalMs?: number;
}

interface ActiveJob {
  saved: SavedJob;
  received: number;
  rate: TransferRate;
  lastEmit: number;
  controller: AbortController | null;
}

/** Why a transfer was aborted: a user's pause or cancel, or the app shutting down. */
type StopReason = "pause" | "cancel" | "shutdown";

class Stopped extends Error {
  constructor(readonly reason: StopReason) {
    super(reason);
  }
}

/** Free space to keep beyond the download, so the disk is never filled to the last byte. */
const DISK_MARGIN_BYTES = 64 * 1024 * 1024;

export class DownloadManager {
  private readonly jobs = new Map<string, ActiveJob>();
  private queue: Promise<void> = Promise.resolve();
  private disposed = false;
  private readonly retryDelaysMs: readonly number[];
  private readonly progressIntervalMs: number;
  private readonly freeBytes: (folder: string) => Promise<number>;

  constructor(private readonly options: DownloadManagerOptions) {
    this.retryDelaysMs = options.retryDelaysMs ?? [1000, 2000, 4000, 8000, 16000];
    this.progressIntervalMs = options.progressIntervalMs ?? 250;
    this.freeBytes = options.freeBytes ?? statfsFreeBytes;
  }

  /** Loads the saved jobs and resumes those that were running when the app stopped. */
  async restore(): Promise<void> {
    const state = await readJsonFile(this.options.stateFile, stateSchema, { version: 1, jobs: [] });
    for (const saved of state.jobs) {
      // Finished downloads are in the library now; the list keeps what still needs attention.
      if (saved.status === "cancelled" || saved.status === "done") continue;
      const job: ActiveJob = { saved, received: await this.receivedOnDisk(saved), rate: new TransferRate(), lastEmit: 0, controller: null };
      this.jobs.set(saved.id, job);
      if (saved.status === "queued" || saved.status === "downloading" || saved.status === "verifying") {
        saved.status = "queued";
        this.enqueue(job);
      }
    }
  }

  list(): DownloadJob[] {
    return [...this.jobs.values()].map((job) => this.view(job));
  }

  /** Starts downloading one model of a repository (all its parts when it is split). */
  async start(repo: string, model: HubModelFile): Promise<DownloadJob> {
    for (const job of this.jobs.values()) {
      if (job.saved.repo === repo && job.saved.files[0]?.path === model.path && !isFinished(job.saved.status)) {
        throw new QuantaError("busy", `${model.path} is already being downloaded.`);
      }
    }
    const saved: SavedJob = jobSchema.parse({
      id: newId(),
      repo,
      files: model.files,
      status: "queued",
      error: null,
      modelId: null,
    });
    const existing = await this.destinationsPresent(saved);
    if (existing) throw new QuantaError("busy", `${existing} is already in the library.`);
    const job: ActiveJob = { saved, received: await this.receivedOnDisk(saved), rate: new TransferRate(), lastEmit: 0, controller: null };
    await this.checkDiskSpace(job);
    this.jobs.set(saved.id, job);
    await this.save();
    this.emit(job, true);
    this.enqueue(job);
    return this.view(job);
  }

  async pause(id: string): Promise<void> {
    const job = this.get(id);
    if (isFinished(job.saved.status) || job.saved.status === "paused") return;
    job.saved.status = "paused";
    job.controller?.abort(new Stopped("pause"));
    await this.save();
    this.emit(job, true);
  }

  async resume(id: string): Promise<void> {
    const job = this.get(id);
    if (job.saved.status !== "paused" && job.saved.status !== "failed") return;
    job.received = await this.receivedOnDisk(job.saved);
    await this.checkDiskSpace(job);
    job.saved.status = "queued";
    job.saved.error = null;
    await this.save();
    this.emit(job, true);
    this.enqueue(job);
  }

  /** Stops a download and deletes its partial files. */
  async cancel(id: string): Promise<void> {
    const job = this.get(id);
    if (job.saved.status === "done") return;
    job.saved.status = "cancelled";
    job.controller?.abort(new Stopped("cancel"));
    for (const file of job.saved.files) await fs.rm(this.partPath(job.saved, file.path), { force: true });
    job.received = 0;
    this.jobs.delete(id);
    await this.save();
    this.emit(job, true);
  }

  /** Stops every transfer without changing what was saved, so the next start resumes them. */
  async dispose(): Promise<void> {
    this.disposed = true;
    for (const job of this.jobs.values()) job.controller?.abort(new Stopped("shutdown"));
    await this.queue.catch(() => undefined);
  }

  // ---- running a job --------------------------------------------------------------------------

  private enqueue(job: ActiveJob): void {
    this.queue = this.queue.then(() => this.run(job)).catch(() => undefined);
  }

  private async run(job: ActiveJob): Promise<void> {
    if (this.disposed || job.saved.status !== "queued") return;
    const controller = new AbortController();
    job.controller = controller;
    job.saved.status = "downloading";
    job.rate = new TransferRate();
    await this.save();
    this.emit(job, true);
    try {
      // Stopped after the rename but before the list was saved: the model is already in place.
      if (!(await this.installed(job))) {
        for (const file of job.saved.files) await this.fetchFile(job, file, controller.signal);
        job.saved.status = "verifying";
        this.emit(job, true);
        await this.verify(job);
        await this.install(job);
      }
      job.saved.status = "done";
      job.saved.modelId = await this.options.onFinished(this.destination(job.saved, job.saved.files[0]?.path ?? ""));
    } catch (error) {
      const reason =
        error instanceof Stopped ? error.reason : controller.signal.reason instanceof Stopped ? controller.signal.reason.reason : null;
      if (reason === "shutdown" || reason === "cancel") return; // saved state stays; cancel() reported itself
      // pause() has set the status already, and a resume() since then may have queued the job again.
      if (reason !== "pause") {
        const wire = toWireError(error, "download_failed");
        // A full disk keeps the partial file, so the download resumes once there is room.
        job.saved.status = wire.code === "disk_full" ? "paused" : "failed";
        job.saved.error = wire;
      }
    } finally {
      job.controller = null;
    }
    // dispose() may have run during the awaits above; the narrowing from the top of run() is stale.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by dispose() meanwhile
    if (this.disposed) return;
    await this.save().catch(() => undefined);
    this.emit(job, true);
  }

  /** Fetches one file into its .part, resuming and retrying until it has every byte. */
  private async fetchFile(job: ActiveJob, file: SavedJob["files"][number], signal: AbortSignal): Promise<void> {
    const partPath = this.partPath(job.saved, file.path);
    await fs.mkdir(path.dirname(partPath), { recursive: true });
    let failures = 0;
    for (;;) {
      signal.throwIfAborted();
      const have = await sizeOf(partPath);
      if (have === file.sizeBytes) return;
      if (have > file.sizeBytes) await fs.truncate(partPath, 0);
      const offset = have > file.sizeBytes ? 0 : have;
      try {
        const progressed = await this.transfer(job, file, partPath, offset, signal);
        if (progressed) failures = 0;
      } catch (error) {
        if (signal.aborted) throw signal.reason instanceof Stopped ? signal.reason : error;
        if (!(error instanceof NetworkError)) throw error;
        const delay = this.retryDelaysMs[failures];
        failures += 1;
        if (delay === undefined) {
          throw new QuantaError(
            "download_failed",
            `${file.path}: the connection kept failing (${error.message}). The partial file is kept; resume to try again.`,
          );
        }
        job.rate = new TransferRate();
        await sleep(delay, signal);
      }
    }
  }

  /** One HTTP request from `offset`; true when bytes arrived. Network trouble is a NetworkError (retried). */
  private async transfer(
    job: ActiveJob,
    file: SavedJob["files"][number],
    partPath: string,
    offset: number,
    signal: AbortSignal,
  ): Promise<boolean> {
    const url = this.options.hub.fileUrl(job.saved.repo, file.path);
    let response: Response;
    try {
      response = await this.options.hub.fetchFile(url, { signal, headers: offset > 0 ? { Range: `bytes=${offset}-` } : {} });
    } catch (error) {
      // A redirect to a place the hub may not send Quanta is refused, not retried.
      if (signal.aborted || error instanceof QuantaError) throw error;
      throw new NetworkError(describeNetworkError(error));
    }
    let start: number;
    if (response.status === 206) {
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get("content-range") ?? "");
      if (!range || Number(range[1]) !== offset) {
        await response.body?.cancel();
        throw new NetworkError(`the server sent a range other than the one asked for`);
      }
      start = offset;
    } else if (response.status === 200) {
      // The server ignored the Range header: it sends the whole file, so start over.
      start = 0;
    } else if (response.status === 416 && offset > 0) {
      await response.body?.cancel();
      await fs.truncate(partPath, 0);
      throw new NetworkError("the server refused the resume range");
    } else {
      await response.body?.cancel();
      if (response.status >= 500 || response.status === 429) throw new NetworkError(`the server answered ${response.status}`);
      throw new QuantaError(
        response.status === 404 ? "not_found" : "download_failed",
        `${job.saved.repo}/${file.path}: the hub answered ${response.status}${response.status === 401 || response.status === 403 ? " (this repository needs an account or accepting its terms on the hub)" : ""}.`,
      );
    }
    if (!response.body) throw new NetworkError("the server sent no body");

    const handle = await fs.open(partPath, start === 0 ? "w" : "a");
    let written = 0;
    const completedBefore = this.completedBytesBefore(job, file.path);
    job.received = completedBefore + start;
    const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
    try {
      for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (error) {
          if (signal.aborted) throw signal.reason instanceof Stopped ? signal.reason : error;
          throw new NetworkError(describeNetworkError(error));
        }
        if (chunk.done) break;
        if (start + written + chunk.value.length > file.sizeBytes) {
          throw new NetworkError("the server sent more bytes than the file has");
        }
        try {
          // A full disk can take part of a chunk without an error: write it all or fail.
          await writeAll(handle, chunk.value);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === "ENOSPC") {
            throw new QuantaError(
              "disk_full",
              `The disk is full. ${file.path} stopped at ${formatMb(start + written)}; the partial file is kept, so the download resumes once there is room.`,
            );
          }
          throw error;
        }
        written += chunk.value.length;
        job.received = completedBefore + start + written;
        job.rate.add(job.received);
        this.emit(job);
      }
    } finally {
      reader.releaseLock();
      await handle.close();
    }
    if (start + written < file.sizeBytes) {
      if (written === 0) throw new NetworkError("the connection closed before any data came");
      throw new NetworkError(`the connection closed after ${start + written} of ${file.sizeBytes} bytes`);
    }
    return written > 0;
  }

  /** Checks every part's size and SHA-256; a part that does not match is deleted. */
  private async verify(job: ActiveJob): Promise<void> {
    for (const file of job.saved.files) {
      const partPath = this.partPath(job.saved, file.path);
      const size = await sizeOf(partPath);
      if (size !== file.sizeBytes) {
        throw new QuantaError("download_failed", `${file.path} has ${formatMb(size)} instead of ${formatMb(file.sizeBytes)}.`, {
          reason: "size_mismatch",
          file: file.path,
          actualBytes: size,
          expectedBytes: file.sizeBytes,
        });
      }
      if (file.sha256 === null) continue; // the hub published no checksum (a small non-LFS file)
      const hash = createHash("sha256");
      await pipeline(createReadStream(partPath), hash);
      const actual = hash.digest("hex");
      if (actual !== file.sha256) {
        await fs.rm(partPath, { force: true });
        job.received = this.completedBytesBefore(job, file.path);
        throw new QuantaError(
          "checksum_mismatch",
          `${file.path} arrived damaged: its SHA-256 is ${actual.slice(0, 12)}…, the hub publishes ${file.sha256.slice(0, 12)}…. The bad file was deleted; download it again.`,
        );
      }
    }
  }

  /** Renames every verified part into place, the first part last: the library sees the model whole or not at all. */
  private async install(job: ActiveJob): Promise<void> {
    const files = [...job.saved.files].reverse();
    for (const file of files) await fs.rename(this.partPath(job.saved, file.path), this.destination(job.saved, file.path));
  }

  /** Whether every file is in place at its full size, with no partial file left. */
  private async installed(job: ActiveJob): Promise<boolean> {
    for (const file of job.saved.files) {
      if ((await sizeOf(this.destination(job.saved, file.path))) !== file.sizeBytes) return false;
      if ((await sizeOf(this.partPath(job.saved, file.path))) > 0) return false;
    }
    return true;
  }

  // ---- bookkeeping ----------------------------------------------------------------------------

  private get(id: string): ActiveJob {
    const job = this.jobs.get(id);
    if (!job) throw new QuantaError("not_found", "There is no such download.");
    return job;
  }

  private destination(saved: SavedJob, filePath: string): string {
    const [owner = "", name = ""] = saved.repo.split("/");
    const folder = path.resolve(this.options.modelsFolder);
    const target = path.resolve(folder, owner, name, ...filePath.split("/"));
    if (!target.startsWith(folder + path.sep))
      throw new QuantaError("invalid_request", `${filePath} would land outside the models folder.`);
    return target;
  }

  private partPath(saved: SavedJob, filePath: string): string {
    return `${this.destination(saved, filePath)}.part`;
  }

  private completedBytesBefore(job: ActiveJob, filePath: string): number {
    let sum = 0;
    for (const file of job.saved.files) {
      if (file.path === filePath) break;
      sum += file.sizeBytes;
    }
    return sum;
  }

  private async receivedOnDisk(saved: SavedJob): Promise<number> {
    let sum = 0;
    for (const file of saved.files) {
      sum += saved.status === "done" ? file.sizeBytes : Math.min(await sizeOf(this.partPath(saved, file.path)), file.sizeBytes);
    }
    return sum;
  }

  private async destinationsPresent(saved: SavedJob): Promise<string | null> {
    for (const file of saved.files) {
      if ((await sizeOf(this.destination(saved, file.path))) > 0) return file.path;
    }
    return null;
  }

  private async checkDiskSpace(job: ActiveJob): Promise<void> {
    const total = job.saved.files.reduce((sum, file) => sum + file.sizeBytes, 0);
    const needed = total - job.received;
    const folder = path.resolve(this.options.modelsFolder);
    await fs.mkdir(folder, { recursive: true });
    const free = await this.freeBytes(folder);
    if (free < needed + DISK_MARGIN_BYTES) {
      throw new QuantaError(
        "disk_full",
        `Not enough disk space: ${job.saved.files[0]?.path ?? "the model"} needs ${formatMb(needed)} more, and ${formatMb(free)} is free (Quanta keeps ${formatMb(DISK_MARGIN_BYTES)} spare).`,
        {
          reason: "not_enough_space",
          file: job.saved.files[0]?.path ?? "",
          neededBytes: needed,
          freeBytes: free,
          spareBytes: DISK_MARGIN_BYTES,
        },
      );
    }
  }

  private view(job: ActiveJob): DownloadJob {
    const totalBytes = job.saved.files.reduce((sum, file) => sum + file.sizeBytes, 0);
    const downloading = job.saved.status === "downloading";
    const speed = downloading ? job.rate.bytesPerSecond() : null;
    return {
      id: job.saved.id,
      repo: job.saved.repo,
      path: job.saved.files[0]?.path ?? "",
      status: job.saved.status,
      totalBytes,
      receivedBytes: job.saved.status === "done" ? totalBytes : job.received,
      bytesPerSecond: speed,
      secondsLeft: speed !== null && speed > 0 ? Math.max(0, (totalBytes - job.received) / speed) : null,
      error: job.saved.error as WireError | null,
      modelId: job.saved.modelId,
    };
  }

  /** Progress goes out at most every progressIntervalMs; state changes (`force`) always. */
  private emit(job: ActiveJob, force = false): void {
    const now = performance.now();
    if (!force && now - job.lastEmit < this.progressIntervalMs) return;
    job.lastEmit = now;
    this.options.onChange(this.view(job));
  }

  private async save(): Promise<void> {
    const jobs = [...this.jobs.values()].map((job) => job.saved);
    await writeJsonAtomic(this.options.stateFile, { version: 1, jobs });
  }
}

class NetworkError extends Error {}

function isFinished(status: DownloadStatus): boolean {
  return status === "done" || status === "cancelled";
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size;
  } catch {
    return 0;
  }
}

async function statfsFreeBytes(folder: string): Promise<number> {
  const stats = await fs.statfs(folder);
  return stats.bavail * stats.bsize;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // The job's controller is only ever aborted with a Stopped.
    if (signal.aborted) {
      reject(signal.reason as Stopped);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Stopped);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Sizes in the app's one convention, binary units (as the renderer's formatBytes). */
function formatMb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
