// Downloads against a local server that speaks the hub's API and serves the shared test
// models' real bytes: search and file listing (split models as one), a verified download that
// appears in the library, resume after a dropped connection, after a restart of the core's
// library service, and against a server that ignores Range; a corrupted byte caught and the
// bad file deleted; a full disk refused before starting; pause, resume and cancel.

import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CoreEvent, DownloadJob } from "../../electron/contract/types.js";
import { createLibraryService, type LibraryService } from "../../electron/core/library/library-service.js";
import { readGgufHeader } from "../../electron/common-node/gguf/gguf-reader.js";
import { dataPaths } from "../../electron/core/settings/paths.js";
import { writeSplitGguf } from "../fixtures/gguf-split.js";
import { startFakeHub, hubFile, type FakeHub } from "../support/fake-hub.js";
import { STORIES_MODEL, TINY_RANDOM_MODEL, tempDir } from "../support/paths.js";
import { QuantaError } from "../../electron/contract/errors.js";

/** These tests need no engine; the fit estimate has its own test against the real one. */
const noEngine = (): Promise<never> => Promise.reject(new QuantaError("engine_unavailable", "no engine in this test"));

const REPO = "test-org/Stories-GGUF";
let hub: FakeHub;
let storiesBytes: Buffer;
let splitBytes: Buffer[];

beforeAll(async () => {
  hub = await startFakeHub();
  storiesBytes = await fs.readFile(STORIES_MODEL);
  // A model in three parts, as gguf-split writes them.
  const splitDir = await tempDir("split-source");
  const parts = await writeSplitGguf(TINY_RANDOM_MODEL, splitDir, "tiny-F16", 3);
  const partFiles = await Promise.all(parts.map((part) => hubFile(`big/${path.basename(part)}`, part)));
  splitBytes = partFiles.map((file) => file.bytes);
  await fs.rm(splitDir, { recursive: true, force: true });
  hub.addRepo(REPO, [
    { path: "stories260K-F32.gguf", bytes: storiesBytes },
    await hubFile("stories260K-Q8_0.gguf", STORIES_MODEL),
    ...partFiles,
  ]);
  hub.addRepo("other-org/Unrelated-GGUF", [await hubFile("tiny-F16.gguf", TINY_RANDOM_MODEL)]);
});

afterAll(async () => {
  /* eslint-disable @typescript-eslint/no-unnecessary-condition -- beforeAll may have thrown before assigning these, so they can be undefined here */
  await hub?.close();
  /* eslint-enable @typescript-eslint/no-unnecessary-condition */
});

interface Harness {
  home: string;
  service: LibraryService;
  events: CoreEvent[];
  waitForJob(predicate: (job: DownloadJob) => boolean, timeoutMs?: number): Promise<DownloadJob>;
}

const open: LibraryService[] = [];
let home: string;

beforeEach(async () => {
  home = await tempDir("downloads");
  hub.setThrottle(null);
  hub.setIgnoreRange(false);
  hub.setDown(false);
  hub.requests.length = 0;
});

afterEach(async () => {
  for (const service of open.splice(0)) await service.dispose();
  await fs.rm(home, { recursive: true, force: true });
});

async function startService(options: { freeBytes?: (folder: string) => Promise<number> } = {}): Promise<Harness> {
  // Fast retries: the backoff's length is not what these tests are about.
  const downloads = { retryDelaysMs: [50, 100, 200], ...options };
  const events: CoreEvent[] = [];
  const waiters = new Set<() => void>();
  const service = await createLibraryService({
    paths: dataPaths(home),
    env: { QUANTA_HUB_URL: hub.url, QUANTA_LMSTUDIO_MODELS: "", OLLAMA_MODELS: "" },
    emit: (event) => {
      events.push(event);
      for (const waiter of [...waiters]) waiter();
    },
    loadedModelId: () => null,
    engineFit: noEngine,
    downloads,
  });
  open.push(service);
  await service.start();
  const latest = () => {
    const jobs = events.flatMap((event) => (event.type === "download" ? [event.job] : []));
    return jobs.at(-1);
  };
  return {
    home,
    service,
    events,
    waitForJob(predicate, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const job = latest();
          if (job && predicate(job)) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(job);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching download event; last: ${JSON.stringify(latest())}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

const destination = (file: string) => path.join(home, "models", ...REPO.split("/"), file);
const sha = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe("the hub", () => {
  it("searches GGUF repositories and lists files by quantization, a split model as one", async () => {
    const { service } = await startService();
    const found = await service.api.searchHub({ query: "stories" });
    expect(found.map((repo) => repo.id)).toEqual([REPO]);
    const searched = new URL(hub.requests.find((r) => r.url.startsWith("/api/models?"))?.url ?? "", hub.url);
    expect(searched.searchParams.get("filter")).toBe("gguf");

    const files = await service.api.listHubFiles({ repo: REPO });
    const byQuant = Object.fromEntries(files.groups.map((group) => [group.quantization, group.files.map((file) => file.path)]));
    expect(byQuant).toEqual({
      F32: ["stories260K-F32.gguf"],
      Q8_0: ["stories260K-Q8_0.gguf"],
      F16: ["big/tiny-F16-00001-of-00003.gguf"],
    });
    const split = files.groups.find((group) => group.quantization === "F16")?.files[0];
    expect(split?.files.map((file) => file.path)).toHaveLength(3);
    expect(split?.sizeBytes).toBe(splitBytes.reduce((sum, bytes) => sum + bytes.length, 0));
    expect(files.groups.find((group) => group.quantization === "F32")?.files[0]?.files[0]?.sha256).toBe(sha(storiesBytes));
  });

  it("uses the hub address set in Quanta, checked and remembered; QUANTA_HUB_URL wins over it", async () => {
    const make = async (env: NodeJS.ProcessEnv) => {
      const service = await createLibraryService({
        paths: dataPaths(home),
        env,
        emit: () => undefined,
        loadedModelId: () => null,
        engineFit: noEngine,
      });
      open.push(service);
      await service.start();
      return service;
    };
    const plain = await make({ QUANTA_LMSTUDIO_MODELS: "", OLLAMA_MODELS: "" });
    expect(await plain.api.getHubAddress()).toEqual({ url: "https://huggingface.co", source: "default" });
    for (const bad of ["ftp://example.com", "not a url", "https://user:secret@example.com", "https://example.com/?q=1"]) {
      await expect(plain.api.setHubAddress({ url: bad })).rejects.toMatchObject({ code: "invalid_request" });
    }
    expect(await plain.api.setHubAddress({ url: `${hub.url}/` })).toEqual({ url: hub.url, source: "settings" });
    expect((await plain.api.searchHub({ query: "stories" })).map((repo) => repo.id)).toEqual([REPO]);

    // Remembered across a restart; the environment variable still wins.
    const again = await make({ QUANTA_LMSTUDIO_MODELS: "", OLLAMA_MODELS: "" });
    expect(await again.api.getHubAddress()).toEqual({ url: hub.url, source: "settings" });
    const fromEnv = await make({ QUANTA_HUB_URL: "http://127.0.0.1:9", QUANTA_LMSTUDIO_MODELS: "", OLLAMA_MODELS: "" });
    expect(await fromEnv.api.getHubAddress()).toEqual({ url: "http://127.0.0.1:9", source: "env" });
    expect(await again.api.setHubAddress({ url: null })).toEqual({ url: "https://huggingface.co", source: "default" });
  });

  it("says plainly when the hub cannot be reached", async () => {
    const { service } = await startService();
    hub.setDown(true);
    await expect(service.api.searchHub({ query: "x" })).rejects.toMatchObject({ code: "hub_unreachable" });
    hub.setDown(false);
    await expect(service.api.listHubFiles({ repo: "nobody/nothing" })).rejects.toMatchObject({ code: "not_found" });
  });
});

describe("downloads", () => {
  it("downloads, verifies and only then shows the model in the library, with throttled progress", async () => {
    const h = await startService();
    hub.setThrottle(1_500_000);
    const job = await h.service.api.startDownload({ repo: REPO, path: "stories260K-F32.gguf" });
    expect(job.totalBytes).toBe(storiesBytes.length);
    const progress = await h.waitForJob((j) => j.status === "downloading" && j.receivedBytes > 0 && j.receivedBytes < j.totalBytes);
    // While it downloads the model is a .part and not in the library.
    expect(h.service.library.list()).toHaveLength(0);
    expect(progress.bytesPerSecond === null || progress.bytesPerSecond > 0).toBe(true);
    const done = await h.waitForJob((j) => j.status === "done");
    expect(done.receivedBytes).toBe(storiesBytes.length);
    expect(sha(await fs.readFile(destination("stories260K-F32.gguf")))).toBe(sha(storiesBytes));
    await expect(fs.stat(`${destination("stories260K-F32.gguf")}.part`)).rejects.toMatchObject({ code: "ENOENT" });
    const model = h.service.library.list().find((m) => m.id === done.modelId);
    expect(model?.fileName).toBe("stories260K-F32.gguf");
    expect(model?.owned).toBe(true);
    expect(h.events.some((event) => event.type === "models" && event.models.some((m) => m.id === done.modelId))).toBe(true);
    // Progress events are throttled: far fewer than the 16 KiB chunks the server sent.
    const downloadEvents = h.events.filter((event) => event.type === "download").length;
    expect(downloadEvents).toBeLessThan(storiesBytes.length / (16 * 1024));
    // Asking again for a model already there is refused.
    await expect(h.service.api.startDownload({ repo: REPO, path: "stories260K-F32.gguf" })).rejects.toMatchObject({ code: "busy" });
  });

  it("resumes with a Range request after the connection drops", async () => {
    const h = await startService();
    hub.dropNextAfter(300_000);
    await h.service.api.startDownload({ repo: REPO, path: "stories260K-F32.gguf" });
    await h.waitForJob((j) => j.status === "done");
    const fileRequests = hub.requests.filter((r) => r.url.startsWith("/cdn/"));
    expect(fileRequests.length).toBeGreaterThanOrEqual(2);
    expect(fileRequests[0]?.range).toBeNull();
    const resumed = fileRequests.find((r) => r.range !== null);
    expect(resumed?.range).toMatch(/^bytes=\d+-$/);
    expect(Number(/bytes=(\d+)-/.exec(resumed?.range ?? "")?.[1])).toBeGreaterThan(0);
    expect(resumed?.status).toBe(206);
    expect(sha(await fs.readFile(destination("stories260K-F32.gguf")))).toBe(sha(storiesBytes));
  });

  it("starts over when the server ignores Range and answers 200", async () => {
    const h = await startService();
    hub.dropNextAfter(200_000);
    hub.setIgnoreRange(true);
    await h.service.api.startDownload({ repo: REPO, path: "stories260K-F32.gguf" });
    await h.waitForJob((j) => j.status === "done");
    const fileRequests = hub.requests.filter((r) => r.url.startsWith("/cdn/"));
    expect(fileRequests.some((r) => r.range !== null && r.status === 200)).toBe(true);
    expect(sha(await fs.readFile(destination("stories260K-F32.gguf")))).toBe(sha(storiesBytes));
  });

  it("resumes after a restart, from the bytes already on disk", async () => {
    const first = await startService();
    hub.setThrottle(300_000);
    await first.service.api.startDownload({ repo: REPO, path: "stories260K-F32.gguf" });
    await first.waitForJob((j) => j.receivedBytes > 200_000);
    await first.service.dispose();
    const kept = (await fs.stat(`${destination("stories260K-F32.gguf")}.part`)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(storiesBytes.length);

    hub.setThrottle(null);
    hub.requests.length = 0;
    const second = await startService();
    const done = await second.waitForJob((j) => j.status === "done");
    expect(done.modelId).not.toBeNull();
    const range = hub.requests.find((r) => r.url.startsWith("/cdn/"))?.range ?? "";
    expect(Number(/bytes=(\d+)-/.exec(range)?.[1])).toBe(kept);
    expect(sha(await fs.readFile(destination("stories260K-F32.gguf")))).toBe(sha(storiesBytes));
  });

  it("does not download again a model that was renamed into place just before a restart", async () => {
    const first = await startService();
    await first.service.api.startDownload({ repo: REPO, path: "stories260K-F32.gguf" });
    await first.waitForJob((j) => j.status === "done");
    await first.service.dispose();
    // The list as it was saved before the rename: the job still running.
    const stateFile = path.join(home, "downloads.json");
    const state = JSON.parse(await fs.readFile(stateFile, "utf8")) as { jobs: Array<{ status: string; modelId: string | null }> };
    for (const job of state.jobs) Object.assign(job, { status: "downloading", modelId: null });
    await fs.writeFile(stateFile, JSON.stringify(state));
    hub.requests.length = 0;
    const second = await startService();
    const done = await second.waitForJob((j) => j.status === "done");
    expect(done.modelId).not.toBeNull();
    expect(hub.requests.filter((r) => r.url.startsWith("/cdn/"))).toHaveLength(0);
  });

  it("detects a corrupted byte, deletes the bad file and says so", async () => {
    const h = await startService();
    hub.corruptNextAt(500_000);
    await h.service.api.startDownload({ repo: REPO, path: "stories260K-F32.gguf" });
    const failed = await h.waitForJob((j) => j.status === "failed");
    expect(failed.error?.code).toBe("checksum_mismatch");
    expect(failed.error?.message).toMatch(/deleted/);
    await expect(fs.stat(`${destination("stories260K-F32.gguf")}.part`)).rejects.toMatchObject({ code: "ENOENT" });
    await expect(fs.stat(destination("stories260K-F32.gguf"))).rejects.toMatchObject({ code: "ENOENT" });
    expect(h.service.library.list()).toHaveLength(0);

    // Trying again (the server is honest now) gets a good copy.
    await h.service.api.resumeDownload({ downloadId: failed.id });
    const done = await h.waitForJob((j) => j.status === "done");
    expect(done.modelId).not.toBeNull();
  });

  it("refuses to start when the disk has no room, keeping nothing", async () => {
    const h = await startService({ freeBytes: () => Promise.resolve(10_000) });
    await expect(h.service.api.startDownload({ repo: REPO, path: "stories260K-F32.gguf" })).rejects.toMatchObject({ code: "disk_full" });
    expect(await h.service.api.listDownloads()).toHaveLength(0);
  });

  it("continues when resumed right after a pause, before the transfer has wound down", async () => {
    const h = await startService();
    hub.setThrottle(300_000);
    const job = await h.service.api.startDownload({ repo: REPO, path: "stories260K-F32.gguf" });
    await h.waitForJob((j) => j.receivedBytes > 50_000);
    await h.service.api.pauseDownload({ downloadId: job.id });
    await h.service.api.resumeDownload({ downloadId: job.id });
    hub.setThrottle(null);
    const done = await h.waitForJob((j) => j.status === "done");
    expect(done.modelId).not.toBeNull();
    expect(sha(await fs.readFile(destination("stories260K-F32.gguf")))).toBe(sha(storiesBytes));
  });

  it("pauses, resumes and cancels", async () => {
    const h = await startService();
    hub.setThrottle(200_000);
    const job = await h.service.api.startDownload({ repo: REPO, path: "stories260K-Q8_0.gguf" });
    await h.waitForJob((j) => j.receivedBytes > 100_000);
    await h.service.api.pauseDownload({ downloadId: job.id });
    const paused = await h.waitForJob((j) => j.status === "paused");
    const part = path.join(home, "models", ...REPO.split("/"), "stories260K-Q8_0.gguf.part");
    const size = (await fs.stat(part)).size;
    expect(size).toBeGreaterThan(0);
    expect(paused.receivedBytes).toBeGreaterThan(0);

    await h.service.api.resumeDownload({ downloadId: job.id });
    await h.waitForJob((j) => j.status === "downloading" && j.receivedBytes > size);
    await h.service.api.cancelDownload({ downloadId: job.id });
    await h.waitForJob((j) => j.status === "cancelled");
    await expect(fs.stat(part)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await h.service.api.listDownloads()).toHaveLength(0);
  });

  it("downloads every part of a split model and shows it as one model once all are verified", async () => {
    const h = await startService();
    hub.dropNextAfter(40_000);
    const job = await h.service.api.startDownload({ repo: REPO, path: "big/tiny-F16-00001-of-00003.gguf" });
    expect(job.totalBytes).toBe(splitBytes.reduce((sum, bytes) => sum + bytes.length, 0));
    const done = await h.waitForJob((j) => j.status === "done");
    for (const [index, bytes] of splitBytes.entries()) {
      const file = destination(`big/tiny-F16-0000${index + 1}-of-00003.gguf`);
      expect(sha(await fs.readFile(file))).toBe(sha(bytes));
    }
    const models = h.service.library.list();
    expect(models.map((m) => [m.fileName, m.parts, m.error])).toEqual([["tiny-F16-00001-of-00003.gguf", 3, null]]);
    expect(models[0]?.id).toBe(done.modelId);
    const whole = await readGgufHeader(TINY_RANDOM_MODEL);
    expect(models[0]?.parameterCount).toBe(whole.tensors.reduce((sum, t) => sum + t.elementCount, 0));
  });

  it("stops cleanly when the disk fills up mid-download, keeping the partial file", async () => {
    const h = await startService();
    const part = `${destination("stories260K-F32.gguf")}.part`;
    await fs.mkdir(path.dirname(part), { recursive: true });
    // The partial file lands on a device that is always full: every write fails with ENOSPC.
    await fs.symlink("/dev/full", part);
    const job = await h.service.api.startDownload({ repo: REPO, path: "stories260K-F32.gguf" });
    const stopped = await h.waitForJob((j) => j.status !== "queued" && j.status !== "downloading");
    expect(stopped.status).toBe("paused");
    expect(stopped.error?.code).toBe("disk_full");
    expect(stopped.error?.message).toMatch(/partial file is kept/);
    expect((await fs.lstat(part)).isSymbolicLink()).toBe(true);

    // Room again: resuming finishes the download.
    await fs.rm(part);
    await h.service.api.resumeDownload({ downloadId: job.id });
    await h.waitForJob((j) => j.status === "done");
    expect(sha(await fs.readFile(destination("stories260K-F32.gguf")))).toBe(sha(storiesBytes));
  });

  it("keeps the partial file when the disk fills up before a resume", async () => {
    let free = 10 * 1024 ** 3;
    const h = await startService({ freeBytes: () => Promise.resolve(free) });
    hub.setThrottle(200_000);
    const job = await h.service.api.startDownload({ repo: REPO, path: "stories260K-F32.gguf" });
    await h.waitForJob((j) => j.receivedBytes > 100_000);
    await h.service.api.pauseDownload({ downloadId: job.id });
    await h.waitForJob((j) => j.status === "paused");
    const part = `${destination("stories260K-F32.gguf")}.part`;
    const kept = (await fs.stat(part)).size;
    free = 1000;
    await expect(h.service.api.resumeDownload({ downloadId: job.id })).rejects.toMatchObject({ code: "disk_full" });
    expect((await fs.stat(part)).size).toBe(kept);
    expect((await h.service.api.listDownloads())[0]?.status).toBe("paused");
    free = 10 * 1024 ** 3;
    hub.setThrottle(null);
    await h.service.api.resumeDownload({ downloadId: job.id });
    await h.waitForJob((j) => j.status === "done");
  });
});
