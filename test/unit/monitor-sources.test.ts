// The monitor's readers against this machine: /proc (or the os module) read for real, the
// GPU reader where nvidia-smi is absent (this development machine) and with a stand-in
// nvidia-smi that loses a GPU or dies; and the sampler's schedule (on fake timers, so a
// loaded machine cannot change what it counts).

import { spawn } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { GpuReader, NO_NVIDIA_SMI } from "../../electron/core/monitor/gpu-reader.js";
import { Sampler } from "../../electron/core/monitor/sampler.js";
import { SystemReader } from "../../electron/core/monitor/system-reader.js";
import { REPO_ROOT, tempDir } from "../support/paths.js";

const FAKE_NVIDIA_SMI = path.join(REPO_ROOT, "test", "fixtures", "fake-nvidia-smi.mjs");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function onPath(program: string): boolean {
  const extensions = process.platform === "win32" ? [".exe", ".cmd", ""] : [""];
  return (process.env.PATH ?? "")
    .split(path.delimiter)
    .some((folder) => folder !== "" && extensions.some((extension) => existsSync(path.join(folder, program + extension))));
}

async function until<T>(read: () => T, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
    await sleep(25);
  }
}

describe("sampler units against real readings of this machine", () => {
  it("reads CPU use within bounds, one figure per core, and memory used within the total", () => {
    const reader = new SystemReader();
    reader.reset();
    // Some work, so the interval has ticks on at least one core.
    const until = Date.now() + 250;
    while (Date.now() < until) Math.sqrt(Math.random());
    const reading = reader.read();
    expect(reading.cpu).not.toBeNull();
    expect(reading.cpu!.total).toBeGreaterThanOrEqual(0);
    expect(reading.cpu!.total).toBeLessThanOrEqual(1);
    expect(reading.cpu!.total).toBeGreaterThan(0); // this thread was busy
    expect(reading.cpu!.perCore).toHaveLength(os.cpus().length);
    for (const core of reading.cpu!.perCore) {
      expect(core).toBeGreaterThanOrEqual(0);
      expect(core).toBeLessThanOrEqual(1);
    }
    const memory = reading.memory!;
    expect(memory.usedBytes).toBeGreaterThan(0);
    expect(memory.usedBytes).toBeLessThanOrEqual(memory.totalBytes);
    expect(Math.abs(memory.totalBytes - os.totalmem()) / os.totalmem()).toBeLessThan(0.01);
    if (process.platform === "linux") {
      expect(memory.swapTotalBytes).not.toBeNull();
      expect(memory.swapUsedBytes!).toBeLessThanOrEqual(memory.swapTotalBytes!);
      expect(reading.missing).toEqual([]);
    } else {
      expect(reading.missing.map((item) => item.what)).toContain("swap");
    }
  });

  it("says why there is no CPU figure before a baseline exists", () => {
    const reading = new SystemReader().read();
    expect(reading.cpu).toBeNull();
    expect(reading.missing[0]?.what).toBe("cpu");
  });

  it("falls back to the os module where /proc cannot be read, without swap", async () => {
    const reader = new SystemReader({ procRoot: "/nonexistent-proc" });
    reader.reset();
    await sleep(100);
    const reading = reader.read();
    expect(reading.memory?.totalBytes).toBe(os.totalmem());
    expect(reading.memory?.swapTotalBytes).toBeNull();
    expect(reading.missing.map((item) => item.what)).toContain("swap");
  });
});

describe("the GPU reader", () => {
  let reader: GpuReader | null = null;
  afterEach(() => {
    reader?.stop();
    reader = null;
  });

  it.skipIf(onPath("nvidia-smi"))("reports a machine without nvidia-smi as such (this machine has none)", async () => {
    reader = new GpuReader();
    reader.start(250);
    const snapshot = await until(
      () => reader!.read(),
      () => reader!.unavailable,
    );
    expect(snapshot).toEqual({ gpus: [], missing: [{ what: "gpu", reason: NO_NVIDIA_SMI }] });
  });

  it("re-timed or stopped before a missing nvidia-smi has failed, signals nothing but its own child", async () => {
    // Node's kill() on a child whose program was not found signals pid 0, the caller's whole
    // process group. The reader runs in a child of its own group, so a regression kills only it.
    const built = path.join(REPO_ROOT, "dist", "electron", "core", "monitor", "gpu-reader.js");
    expect(existsSync(built), `${built} is missing: run npm run build:node first`).toBe(true);
    const script = `
      const { GpuReader } = await import(${JSON.stringify(pathToFileURL(built).href)});
      const reader = new GpuReader({ command: "quanta-test-no-such-program" });
      reader.start(250);
      reader.start(500);
      reader.stop();
      await new Promise((resolve) => setTimeout(resolve, 300));
      console.log("still running");`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { detached: true, stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    const [status, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once("exit", (code, exitSignal) => resolve([code, exitSignal])),
    );
    expect({ signal, status, stdout: stdout.trim() }).toEqual({ signal: null, status: 0, stdout: "still running" });
  });

  it("reads a looping nvidia-smi line by line", async () => {
    reader = new GpuReader({ command: process.execPath, prefixArgs: [FAKE_NVIDIA_SMI, "healthy"] });
    reader.start(100);
    const snapshot = await until(
      () => reader!.read(),
      (value) => value.gpus.length === 2,
    );
    expect(snapshot.gpus[0]).toMatchObject({
      index: 0,
      name: "NVIDIA GeForce RTX 4090",
      temperatureC: 55,
      vramTotalBytes: 24564 * 1024 * 1024,
    });
    expect(snapshot.gpus[1]).toMatchObject({ index: 1, utilization: null, temperatureC: 48 });
    expect(snapshot.missing).toEqual([
      { what: "gpu-utilization", reason: "gpu 1 (NVIDIA RTX A2000 12GB): utilization not reported by the driver (N/A)" },
    ]);
    // It keeps reading: GPU 0's memory figure changes every loop.
    const first = snapshot.gpus[0]?.vramUsedBytes;
    await until(
      () => reader!.read(),
      (value) => value.gpus[0]?.vramUsedBytes !== first,
    );
  });

  it("reports a GPU that is lost mid-way as missing, and keeps the other", async () => {
    reader = new GpuReader({ command: process.execPath, prefixArgs: [FAKE_NVIDIA_SMI, "lose"] });
    reader.start(100);
    const snapshot = await until(
      () => reader!.read(),
      (value) => value.gpus.length === 1 && value.missing.some((item) => item.reason.includes("gpu 1")),
    );
    expect(snapshot.gpus.map((gpu) => gpu.index)).toEqual([0]);
    const reasons = snapshot.missing.filter((item) => item.what === "gpu").map((item) => item.reason);
    expect(reasons.some((reason) => reason.includes("GPU is lost"))).toBe(true);
  });

  it("reports nvidia-smi dying with its own words, and restarts it", async () => {
    const folder = await tempDir("fake-smi");
    try {
      const marker = path.join(folder, "started");
      reader = new GpuReader({ command: process.execPath, prefixArgs: [FAKE_NVIDIA_SMI, "die", marker] });
      reader.start(100);
      const down = await until(
        () => reader!.read(),
        (value) => value.missing.some((item) => item.reason.includes("stopped")),
      );
      expect(down.gpus).toEqual([]);
      expect(down.missing[0]?.reason).toBe(
        "gpu: nvidia-smi stopped (exit code 9: Failed to initialize NVML: Driver/library version mismatch); restarting it",
      );
      // Restarted after a second; the stand-in then runs normally.
      const back = await until(
        () => reader!.read(),
        (value) => value.gpus.length === 2,
        5000,
      );
      expect(back.gpus[0]?.name).toBe("NVIDIA GeForce RTX 4090");
    } finally {
      await fs.rm(folder, { recursive: true, force: true });
    }
  });
});

describe("the sampler's schedule", () => {
  // The sampler's own clock (setTimeout and performance.now) is faked: time moves only when
  // the test advances it, and every count below is exact for the schedule, not for the load.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const pass = (ms: number) => vi.advanceTimersByTimeAsync(ms);

  function recorder(sampleMs = 0) {
    const calls: Array<{ kind: string; at: number; interval?: number }> = [];
    let running = 0;
    let overlapped = false;
    return {
      calls,
      get overlapped() {
        return overlapped;
      },
      task: {
        start: (interval: number) => {
          calls.push({ kind: "start", at: performance.now(), interval });
          return Promise.resolve();
        },
        sample: async () => {
          running += 1;
          if (running > 1) overlapped = true;
          calls.push({ kind: "sample", at: performance.now() });
          await sleep(sampleMs);
          running -= 1;
        },
        retime: (interval: number) => void calls.push({ kind: "retime", at: performance.now(), interval }),
        stop: () => void calls.push({ kind: "stop", at: performance.now() }),
      },
    };
  }

  it("samples only while someone watches, at the smallest interval asked for", async () => {
    const record = recorder();
    const sampler = new Sampler<string>(record.task);
    expect(sampler.watch("a", 200)).toBe(200);
    expect(sampler.watch("b", 50)).toBe(50);
    await pass(330);
    sampler.unwatch("b");
    expect(sampler.intervalMs).toBe(200);
    const before = record.calls.filter((call) => call.kind === "sample").length;
    expect(before).toBeGreaterThanOrEqual(4);
    await pass(450);
    const slow = record.calls.filter((call) => call.kind === "sample").length - before;
    expect(slow).toBeGreaterThanOrEqual(1);
    expect(slow).toBeLessThanOrEqual(3);
    sampler.unwatch("a");
    expect(sampler.active).toBe(false);
    const stopped = record.calls.length;
    await pass(300);
    expect(record.calls.length).toBe(stopped);
    expect(record.calls.map((call) => call.kind)).toContain("retime");
    expect(record.calls.at(-1)?.kind).toBe("stop");
  });

  it("never runs two samples at once when one is slower than the interval", async () => {
    const record = recorder(120);
    const sampler = new Sampler<string>(record.task);
    sampler.watch("a", 30);
    await pass(600);
    sampler.stopAll();
    expect(record.overlapped).toBe(false);
    const samples = record.calls.filter((call) => call.kind === "sample");
    expect(samples.length).toBeGreaterThanOrEqual(3);
    expect(samples.length).toBeLessThanOrEqual(6);
  });

  it("does not overlap an old run's sample with a new run's after a quick unwatch and watch", async () => {
    const record = recorder(150);
    const sampler = new Sampler<string>(record.task);
    sampler.watch("a", 20);
    await pass(60); // a sample is in flight now
    sampler.unwatch("a");
    sampler.watch("a", 20);
    await pass(500);
    sampler.stopAll();
    expect(record.overlapped).toBe(false);
  });
});
