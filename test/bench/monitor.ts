// `npm run bench` (second part): what the hardware monitor's sampling costs, against a real
// core and engine with stories260K loaded and idle, watched by a renderer connected the way
// `quanta serve` connects a browser (JSON over the core's connect()).
//
// For each rate (1 Hz, 4 Hz) it samples for BENCH_SECONDS and prints, as a share of one core:
// - the core's CPU time spent inside samples (process.cpuUsage() around each one, which also
//   counts serializing the sample for the renderer);
// - the engine's CPU time answering the usage() call each sample makes: the median of the
//   engine's CPU share in the phase's samples (the monitor's own reading; the engine is idle
//   otherwise, and the median is not moved by an occasional garbage collection);
// - their sum: what sampling costs;
// - for context, each process's whole CPU use in the phase, and in the unwatched phases (an idle
//   process still wakes up now and then: V8's memory reducer, timers), and the cost of one
//   usage() call measured over many calls back to back.

import path from "node:path";
import { startCore } from "../support/core-harness.js";
import { STORIES_MODEL } from "../support/paths.js";
import { connectRenderer } from "../support/renderer-link.js";

const BENCH_SECONDS = Number(process.env.QUANTA_BENCH_MONITOR_SECONDS ?? 10);
const USAGE_CALLS = 2000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cpuMicros = () => {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
};
const percentOfCore = (micros: number, ms: number) => (100 * micros) / (ms * 1000);

interface Phase {
  label: string;
  ms: number;
  samples: number;
  samplerMicros: number;
  coreMicros: number;
  engineMicros: number;
  /** Median engine CPU share over the phase's samples, as a fraction of one core. */
  engineMedian: number | null;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const harness = await startCore([path.dirname(STORIES_MODEL)]);
try {
  await harness.waitForEngine("idle");
  const model = (await harness.core.api.listModels()).find((entry) => entry.fileName === path.basename(STORIES_MODEL));
  if (!model) throw new Error(`${STORIES_MODEL} is not in the library`);
  const loaded = await harness.core.api.loadModel({ modelId: model.id });
  console.log(`Monitor cost: stories260K loaded (${loaded.threads} thread(s)), engine idle, ${BENCH_SECONDS} s per phase`);
  const engine = await harness.core.engine.api();
  const renderer = connectRenderer(harness.core);
  // Warm up (the sampler's code compiled, the load's garbage collected), then let things settle.
  await renderer.api.watchHardware({ intervalMs: 250 });
  await sleep(5000);
  await renderer.api.unwatchHardware();
  await sleep(5000);

  async function phase(label: string, intervalMs: number | null): Promise<Phase> {
    if (intervalMs !== null) {
      await renderer.api.watchHardware({ intervalMs });
      await sleep(Math.min(2000, 2 * intervalMs)); // past the start-up (baseline readings, first sample)
    }
    const costBefore = harness.core.monitor.samplingCost();
    const engineBefore = (await engine.usage()).cpuMicros;
    const coreBefore = cpuMicros();
    const eventsBefore = renderer.events.length;
    const started = performance.now();
    await sleep(BENCH_SECONDS * 1000);
    const engineShares = renderer.events
      .slice(eventsBefore)
      .flatMap((event) =>
        event.type === "monitor.sample" ? event.sample.processes.filter((p) => p.role === "engine").map((p) => p.cpu) : [],
      );
    const ms = performance.now() - started;
    const coreMicros = cpuMicros() - coreBefore;
    const engineMicros = (await engine.usage()).cpuMicros - engineBefore;
    const costAfter = harness.core.monitor.samplingCost();
    if (intervalMs !== null) await renderer.api.unwatchHardware();
    return {
      label,
      ms,
      samples: costAfter.samples - costBefore.samples,
      samplerMicros: costAfter.cpuMicros - costBefore.cpuMicros,
      coreMicros,
      engineMicros,
      engineMedian: median(engineShares),
    };
  }

  const phases = [await phase("not watched", null), await phase("1 Hz", 1000), await phase("4 Hz", 250), await phase("not watched", null)];

  // One usage() call's cost on each side, from many calls back to back.
  const engineBefore = (await engine.usage()).cpuMicros;
  const coreBefore = cpuMicros();
  const callsStarted = performance.now();
  for (let call = 0; call < USAGE_CALLS; call += 1) await engine.usage();
  const callMs = (performance.now() - callsStarted) / USAGE_CALLS;
  const coreCall = (cpuMicros() - coreBefore) / USAGE_CALLS;
  const engineCall = ((await engine.usage()).cpuMicros - engineBefore) / USAGE_CALLS;

  console.log(
    "\n| sampling | samples | core CPU inside samples | µs per sample | engine CPU answering usage() | sampling in all | core process, whole phase | engine process, whole phase |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  for (const p of phases) {
    const watched = p.samples > 0;
    const inside = percentOfCore(p.samplerMicros, p.ms);
    const engineSide = 100 * (p.engineMedian ?? 0);
    const cell = (value: number) => (watched ? `${value.toFixed(3)} %` : "–");
    console.log(
      `| ${p.label} | ${p.samples} | ${cell(inside)} | ${watched ? Math.round(p.samplerMicros / p.samples) : "–"} | ${cell(engineSide)} | ` +
        `${cell(inside + engineSide)} | ${percentOfCore(p.coreMicros, p.ms).toFixed(3)} % | ${percentOfCore(p.engineMicros, p.ms).toFixed(3)} % |`,
    );
  }
  console.log(
    `\nOne engine usage() call (${USAGE_CALLS} back to back): ${callMs.toFixed(3)} ms round trip, ` +
      `${Math.round(coreCall)} µs of core CPU (inside the samples' figure), ${Math.round(engineCall)} µs of engine CPU.`,
  );
  renderer.close();
} finally {
  await harness.close();
}
