// The monitor's wiring with a stand-in engine (the real one is in test/integration/monitor.test.ts):
// llama.cpp's VRAM figures when nvidia-smi is absent, an engine that does not answer or is not
// running, the live generation reading, and events only to those watching.

import { promises as fs } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CoreEvent, HardwareSample } from "../../electron/contract/types.js";
import type { EngineUsage } from "../../electron/engine/protocol.js";
import { HardwareMonitor, type MonitorWatcher } from "../../electron/core/monitor/hardware-monitor.js";
import { tempDir } from "../support/paths.js";

const GIB = 1024 ** 3;

class Recorder implements MonitorWatcher {
  events: CoreEvent[] = [];
  send(event: CoreEvent): void {
    this.events.push(event);
  }
  get samples(): HardwareSample[] {
    return this.events.flatMap((event) => (event.type === "monitor.sample" ? [event.sample] : []));
  }
  async next(accept: (sample: HardwareSample) => boolean = () => true, timeoutMs = 5000): Promise<HardwareSample> {
    const deadline = Date.now() + timeoutMs;
    const seen = this.samples.length;
    for (;;) {
      const found = this.samples.slice(seen).find(accept);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching sample; last: ${JSON.stringify(this.samples.at(-1))}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

let folder: string;
let monitor: HardwareMonitor;
let engine: { up: boolean; hang: boolean; usage: EngineUsage };

beforeEach(async () => {
  folder = await tempDir("monitor-unit");
  engine = {
    up: true,
    hang: false,
    usage: { pid: 4242, cpuMicros: 0, rssBytes: 300 * 1024 * 1024, model: null, vram: null, gpuNames: [] },
  };
  monitor = new HardwareMonitor({
    engine: () =>
      engine.up
        ? {
            usage: () => {
              if (engine.hang) return new Promise<EngineUsage>(() => undefined);
              // Half a core busy between calls, whatever the spacing: 125 ms of CPU per call at 4 Hz.
              engine.usage = { ...engine.usage, cpuMicros: engine.usage.cpuMicros + 125_000 };
              return Promise.resolve(engine.usage);
            },
          }
        : null,
    bandwidthFile: path.join(folder, "memory-bandwidth.json"),
    gpu: { command: "quanta-test-no-such-program" },
  });
});

afterEach(async () => {
  monitor.dispose();
  await fs.rm(folder, { recursive: true, force: true });
});

describe("the hardware monitor", () => {
  it("shows a GPU with llama.cpp's memory figures when nvidia-smi is absent, and says what is missing", async () => {
    engine.usage = { ...engine.usage, vram: { totalBytes: 16 * GIB, usedBytes: 3 * GIB }, gpuNames: ["Apple M2 Pro"] };
    const watcher = new Recorder();
    monitor.watch(watcher, 250);
    const sample = await watcher.next((s) => s.gpus.length === 1);
    expect(sample.gpus).toEqual([
      { index: 0, name: "Apple M2 Pro", utilization: null, temperatureC: null, vramUsedBytes: 3 * GIB, vramTotalBytes: 16 * GIB },
    ]);
    expect(sample.missing.map((item) => item.what)).toContain("gpu-utilization");
    expect(sample.processes.find((p) => p.role === "engine")).toMatchObject({ pid: 4242, rssBytes: 300 * 1024 * 1024 });
  });

  it("reports no GPU on a CPU-only machine without nvidia-smi", async () => {
    const watcher = new Recorder();
    monitor.watch(watcher, 250);
    const sample = await watcher.next((s) => s.missing.some((item) => item.reason.includes("nvidia-smi) on this machine")));
    expect(sample.gpus).toEqual([]);
  });

  it("keeps sampling when the engine does not answer or is not running, saying why", async () => {
    const watcher = new Recorder();
    monitor.watch(watcher, 250);
    await watcher.next((s) => s.processes.some((p) => p.role === "engine"));
    engine.hang = true;
    const busy = await watcher.next((s) => s.missing.some((item) => item.reason.startsWith("engine: did not answer")));
    expect(busy.processes.map((p) => p.role)).toEqual(["core"]);
    expect(busy.cpu).not.toBeNull();
    engine.up = false;
    engine.hang = false;
    const down = await watcher.next((s) => s.missing.some((item) => item.reason.startsWith("engine: not running")));
    expect(down.model).toBeNull();
    engine.up = true;
    engine.usage = { ...engine.usage, pid: 4343 }; // a new engine process
    const back = await watcher.next((s) => s.processes.some((p) => p.role === "engine" && p.pid === 4343), 8000);
    expect(back.processes.find((p) => p.role === "engine")!.cpu).toBeGreaterThan(0);
  });

  it("reads the live reply: tokens per second, time to first token, context, with markers around it", async () => {
    const watcher = new Recorder();
    monitor.watch(watcher, 250);
    monitor.modelLoaded({ modelId: "m1", name: "tiny", path: "/nowhere/tiny.gguf", contextSize: 512, gpuLayers: 0 }, 2);
    monitor.generationStarted("chat1", "msg1");
    const started = performance.now();
    let tokens = 0;
    const feeder = setInterval(() => {
      tokens += 2; // about 100 tokens a second
      monitor.generationProgress({ generatedTokens: tokens, contextUsed: 20 + tokens });
    }, 20);
    try {
      const live = await watcher.next((s) => (s.generation?.tokensPerSecond ?? 0) > 0 && performance.now() - started > 1200);
      expect(live.generation).toMatchObject({ chatId: "chat1", messageId: "msg1", contextSize: 512 });
      expect(live.generation!.tokensPerSecond).toBeGreaterThan(50);
      expect(live.generation!.tokensPerSecond).toBeLessThan(200);
      expect(live.generation!.timeToFirstTokenMs).toBeGreaterThanOrEqual(0);
      expect(live.generation!.contextUsed).toBe(20 + live.generation!.generatedTokens);
    } finally {
      clearInterval(feeder);
    }
    monitor.generationEnded({
      id: "msg1",
      role: "assistant",
      text: "…",
      createdAt: new Date().toISOString(),
      status: "complete",
      modelId: "m1",
      stats: {
        promptTokens: 20,
        generatedTokens: tokens,
        timeToFirstTokenMs: 5,
        tokensPerSecond: 99.5,
        promptTokensPerSecond: 1000,
        stopReason: "end",
        threads: 2,
      },
      error: null,
    });
    await watcher.next((s) => s.generation === null);
    const markers = watcher.events.flatMap((event) => (event.type === "monitor.marker" ? [event.marker] : []));
    expect(markers.map((marker) => marker.kind)).toEqual(["model-loaded", "generation-started", "generation-ended"]);
    expect(markers[2]?.label).toContain("99.5 tok/s");
  });

  it("sends events only to those watching, and hands a later watcher the recorded window", async () => {
    const first = new Recorder();
    const second = new Recorder();
    monitor.watch(first, 250);
    await first.next();
    await first.next();
    monitor.generationStarted("c", "m");
    const history = monitor.watch(second, 1000);
    expect(history.intervalMs).toBe(250);
    expect(history.samples.length).toBeGreaterThanOrEqual(2);
    expect(history.markers.map((marker) => marker.kind)).toEqual(["generation-started"]);
    expect(second.events).toEqual([]);
    monitor.unwatch(first);
    await second.next();
    const count = first.samples.length;
    await second.next();
    expect(first.samples.length).toBe(count);
    expect(monitor.history().intervalMs).toBe(1000);
    monitor.unwatch(second);
    expect(monitor.sampling).toBe(false);
  });
});
