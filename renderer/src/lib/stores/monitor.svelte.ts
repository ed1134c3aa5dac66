// Owns the hardware monitor as this window sees it: the recorded window of samples (the last
// ten minutes), the markers on its timeline, and what a token of the loaded model costs.
// Talks to lib/api (watchHardware, unwatchHardware, getComputeCost, probeMemoryBandwidth, and
// the core's "monitor.sample" / "monitor.marker" events) and reads the settings store for the
// sample rate.
//
// It samples only while something on screen reads it: every getter goes through one
// createSubscriber, which calls watchHardware when the first reader mounts (the strip under
// the chat, or the Hardware view) and unwatchHardware once the last one is gone, or while the
// window is hidden (minimized, another tab). The core forgets a watcher whose connection
// dropped, so app.svelte.ts calls resync() on every (re)connect, and the history it returns
// is merged with what this window already has.
//
// Per sample, nothing is copied: the sample is appended to the columns the charts draw from
// (lib/utils/timeline.ts, O(1) amortized, old rows trimmed from the front), `latest` (a
// $state.raw) is replaced, and `revision` is bumped so the charts redraw.

import { createSubscriber } from "svelte/reactivity";
import {
  api,
  isConnectionLost,
  onConnectionChange,
  onCoreEvent,
  type BandwidthProbe,
  type ComputeCost,
  type CoreEvent,
  type HardwareSample,
  type MONITOR_WINDOW_MS,
  type MonitorHistory,
  type MonitorMarker,
} from "../api/index.js";
import { Timeline } from "../utils/timeline.js";
import { settings, type SampleInterval } from "./settings.svelte.js";
import { errorText as wordError } from "../i18n/errors.js";
import { track } from "../utils/reactivity.js";

/** Until the core says otherwise (MonitorHistory.windowMs). */
const DEFAULT_WINDOW_MS: typeof MONITOR_WINDOW_MS = 600_000;
/** A pause longer than this many sample intervals breaks the chart's lines. */
const GAP_INTERVALS = 3;
/** The charts show at least this much time, so the first seconds do not fill the width. */
const MIN_SPAN_S = 60;

/** Column keys in the timeline, one per charted reading. */
export const SERIES = {
  speed: "speed",
  cpu: "cpu",
  core: (core: number) => `cpu.${core}`,
  ram: "ram",
  swap: "swap",
  vram: (gpu: number) => `gpu.${gpu}.vram`,
  gpuUtilization: (gpu: number) => `gpu.${gpu}.utilization`,
} as const;

export type MonitorPhase =
  /** Nothing on screen reads the monitor. */
  | "off"
  /** The window is hidden; watching resumes when it is shown. */
  | "hidden"
  | "starting"
  | "live"
  /** The connection is down; watching resumes when it is back. */
  | "waiting"
  | "failed";

export interface GpuIdentity {
  index: number;
  name: string;
}

function* readings(sample: HardwareSample): Generator<readonly [string, number | null]> {
  // No reply running is a true zero tokens per second; the hardware readings below are null
  // where they were not read, so the charts show a gap instead of a made-up zero.
  yield [SERIES.speed, sample.generation?.tokensPerSecond ?? 0];
  yield [SERIES.cpu, sample.cpu ? sample.cpu.total * 100 : null];
  const perCore = sample.cpu?.perCore ?? [];
  for (let core = 0; core < perCore.length; core += 1) yield [SERIES.core(core), (perCore[core] ?? 0) * 100];
  yield [SERIES.ram, sample.memory?.usedBytes ?? null];
  yield [SERIES.swap, sample.memory?.swapUsedBytes ?? null];
  for (const gpu of sample.gpus) {
    yield [SERIES.vram(gpu.index), gpu.vramUsedBytes];
    yield [SERIES.gpuUtilization(gpu.index), gpu.utilization === null ? null : gpu.utilization * 100];
  }
}

/** A failed call in the user's language (by code and parameters), as it is when it fails. */
function errorText(error: unknown): string {
  return wordError(typeof error === "object" && error !== null ? error : { message: String(error) });
}

function markerKey(marker: MonitorMarker): string {
  return `${marker.at}:${marker.kind}`;
}

class MonitorStore {
  #timeline = new Timeline([SERIES.speed, SERIES.cpu]);
  /** Every sample in the window from #samplesHead on (for export); older ones await compaction. */
  #samples: HardwareSample[] = [];
  #samplesHead = 0;

  #latest = $state.raw<HardwareSample | null>(null);
  #markers = $state.raw<MonitorMarker[]>([]);
  #revision = $state(0);
  #phase = $state<MonitorPhase>("off");
  #failure = $state<string | null>(null);
  #windowMs = $state<number>(DEFAULT_WINDOW_MS);
  #gpusSeen = $state.raw<GpuIdentity[]>([]);
  #lastContext = $state.raw<{ used: number; size: number } | null>(null);

  /** What a token of the loaded model costs; null when no model is loaded (or not asked yet). */
  compute = $state.raw<ComputeCost | null>(null);
  computeError = $state<string | null>(null);
  /** The machine's memory bandwidth, once measured (the core remembers it). */
  bandwidth = $state.raw<BandwidthProbe | null>(null);
  probing = $state(false);
  probeError = $state<string | null>(null);

  #active = false;
  /** Set once watchHardware has been called since the last start, so stop only unwatches then. */
  #watched = false;
  /** Bumped by every watch and stop; an answer for an older one is ignored. */
  #attempt = 0;
  /** Events that arrive while watchHardware is on its way; applied after its history. */
  #held: CoreEvent[] | null = null;
  /** The interval the core samples at now, and the one before (for telling a pause from a slow rate). */
  #intervalMs: number = settings.sampleIntervalMs;
  #previousIntervalMs: number = settings.sampleIntervalMs;

  #computeRun: Promise<void> | null = null;
  #computeAgain = false;

  #subscribe = createSubscriber(() => {
    this.#active = true;
    // Started from inside the first reader's effect: the call (and its state writes) go next.
    queueMicrotask(() => {
      if (this.#active && !this.#watched && !document.hidden) void this.#watch();
    });
    const onVisibility = () => {
      if (document.hidden) this.#unwatch("hidden");
      else if (!this.#watched) void this.#watch();
    };
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      document.removeEventListener("visibilitychange", onVisibility);
      this.#active = false;
      this.#unwatch("off");
    };
  });

  constructor() {
    onCoreEvent((event) => this.#onEvent(event));
    onConnectionChange((state) => {
      if (state.kind !== "lost" || !this.#active || this.#phase === "hidden") return;
      // The core has dropped this watcher with the connection; resync() watches again.
      this.#attempt += 1;
      this.#held = null;
      this.#phase = "waiting";
    });
  }

  get latest(): HardwareSample | null {
    this.#subscribe();
    return this.#latest;
  }

  get markers(): MonitorMarker[] {
    this.#subscribe();
    return this.#markers;
  }

  /** Changes with every sample; charts read it to know when to redraw. */
  get revision(): number {
    this.#subscribe();
    return this.#revision;
  }

  /** The columns the charts draw from. Not reactive itself: read `revision` alongside. */
  get timeline(): Timeline {
    this.#subscribe();
    return this.#timeline;
  }

  get phase(): MonitorPhase {
    this.#subscribe();
    return this.#phase;
  }

  /** Why watching failed, in the core's words. */
  get failure(): string | null {
    this.#subscribe();
    return this.#failure;
  }

  get windowMs(): number {
    this.#subscribe();
    return this.#windowMs;
  }

  /** Every GPU reported in this session, so one that disappears can be named as gone. */
  get gpusSeen(): GpuIdentity[] {
    this.#subscribe();
    return this.#gpusSeen;
  }

  /** The context in use at the latest sample taken during a reply. */
  get lastContext(): { used: number; size: number } | null {
    this.#subscribe();
    return this.#lastContext;
  }

  /** The time the charts show, in seconds: the recorded window, at least a minute wide. */
  get range(): { start: number; end: number } | null {
    this.#subscribe();
    track(this.#revision);
    const first = this.#timeline.first;
    const last = this.#timeline.last;
    if (first === null || last === null) return null;
    const end = last;
    const start = Math.max(end - this.#windowMs / 1000, Math.min(first, end - MIN_SPAN_S));
    return { start, end };
  }

  /** The largest value of SERIES.speed or SERIES.cpu within the window. */
  peak(key: typeof SERIES.speed | typeof SERIES.cpu): number | null {
    this.#subscribe();
    track(this.#revision);
    return this.#timeline.peak(key);
  }

  /** The samples in the window, oldest first (a copy, for export). */
  samples(): HardwareSample[] {
    return this.#samples.slice(this.#samplesHead);
  }

  setSampleInterval(intervalMs: SampleInterval): void {
    if (intervalMs === settings.sampleIntervalMs) return;
    settings.setSampleInterval(intervalMs);
    if (this.#active && !document.hidden) void this.#watch();
  }

  /** After a (re)connect: the core knows nothing of this window yet, so watch again. */
  async resync(): Promise<void> {
    if (this.#active && !document.hidden) await this.#watch();
  }

  /** Asks the core what a token of the loaded model costs; calls made meanwhile coalesce into one more. */
  async refreshCompute(): Promise<void> {
    if (this.#computeRun) {
      this.#computeAgain = true;
      return this.#computeRun;
    }
    this.#computeRun = (async () => {
      do {
        this.#computeAgain = false;
        try {
          const cost = await api.getComputeCost();
          this.compute = cost;
          if (cost?.bandwidth) this.bandwidth = cost.bandwidth;
          this.computeError = null;
        } catch (error) {
          // A lost connection is the banner's to report; the figures come back on the next call.
          if (!isConnectionLost(error)) this.computeError = errorText(error);
        }
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by a call that came in during the await above
      } while (this.#computeAgain);
    })();
    try {
      await this.#computeRun;
    } finally {
      this.#computeRun = null;
    }
  }

  /** Measures memory bandwidth (a second or two in the core), then refreshes the compute figures. */
  async probeBandwidth(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    this.probeError = null;
    try {
      this.bandwidth = await api.probeMemoryBandwidth();
      await this.refreshCompute();
    } catch (error) {
      this.probeError = errorText(error);
    } finally {
      this.probing = false;
    }
  }

  async #watch(): Promise<void> {
    const attempt = ++this.#attempt;
    const intervalMs = settings.sampleIntervalMs;
    this.#watched = true;
    this.#held = [];
    // While the rate changes the charts stay live; only a first watch says it is starting.
    if (this.#phase !== "live") this.#phase = "starting";
    this.#failure = null;
    try {
      const history = await api.watchHardware({ intervalMs });
      if (attempt !== this.#attempt) return;
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a stop or a newer watch during the await may have cleared it
      const held = this.#held ?? [];
      this.#held = null;
      this.#previousIntervalMs = this.#intervalMs;
      this.#intervalMs = history.intervalMs;
      this.#load(history, held);
      this.#phase = "live";
    } catch (error) {
      if (attempt !== this.#attempt) return;
      this.#held = null;
      if (isConnectionLost(error)) {
        this.#phase = "waiting";
      } else {
        this.#phase = "failed";
        this.#failure = errorText(error);
      }
    }
  }

  /** Stops the core's samples for this window: nothing reads them, or the window is hidden. */
  #unwatch(phase: "off" | "hidden"): void {
    this.#attempt += 1;
    this.#held = null;
    this.#phase = phase;
    if (this.#watched) {
      this.#watched = false;
      // If the connection is down the core has already forgotten this watcher.
      api.unwatchHardware().catch((error: unknown) => {
        if (!isConnectionLost(error)) console.error("quanta: unwatchHardware failed", error);
      });
    }
  }

  #onEvent(event: CoreEvent): void {
    if (event.type !== "monitor.sample" && event.type !== "monitor.marker") return;
    if (!this.#active) return;
    if (this.#held) {
      this.#held.push(event);
    } else if (event.type === "monitor.sample") {
      this.#append(event.sample, true);
    } else {
      this.#addMarkers([event.marker]);
    }
  }

  /**
   * Takes the core's recorded window. Samples this window holds from before it (the core may
   * have restarted, or kept nothing while nobody watched) stay; the timeline is rebuilt once.
   */
  #load(history: MonitorHistory, held: CoreEvent[]): void {
    this.#windowMs = history.windowMs;
    const coreFirst = history.samples[0]?.at ?? Infinity;
    const kept = this.#samples.slice(this.#samplesHead).filter((sample) => sample.at < coreFirst);
    this.#timeline = new Timeline([SERIES.speed, SERIES.cpu]);
    this.#samples = [];
    this.#samplesHead = 0;
    for (const sample of kept) this.#append(sample, false);
    for (const sample of history.samples) this.#append(sample, false);
    for (const event of held) if (event.type === "monitor.sample") this.#append(event.sample, false);
    this.#latest = this.#samples.at(-1) ?? null;
    this.#revision += 1;
    this.#addMarkers([...history.markers, ...held.flatMap((event) => (event.type === "monitor.marker" ? [event.marker] : []))]);
  }

  #append(sample: HardwareSample, publish: boolean): void {
    const previous = this.#samples.at(-1);
    // The history and the live events can overlap by a sample or two.
    if (previous && sample.at <= previous.at) return;
    if (previous && sample.at - previous.at > GAP_INTERVALS * Math.max(this.#intervalMs, this.#previousIntervalMs)) {
      this.#timeline.appendGap((previous.at + sample.at) / 2000);
    }
    this.#samples.push(sample);
    this.#timeline.append(sample.at / 1000, readings(sample));

    const cutoff = sample.at - this.#windowMs;
    this.#timeline.trim(cutoff / 1000);
    while (this.#samplesHead < this.#samples.length && (this.#samples[this.#samplesHead]?.at ?? Infinity) < cutoff) {
      this.#samplesHead += 1;
    }
    if (this.#samplesHead > 256 && this.#samplesHead * 2 > this.#samples.length) {
      this.#samples = this.#samples.slice(this.#samplesHead);
      this.#samplesHead = 0;
    }

    for (const gpu of sample.gpus) {
      if (!this.#gpusSeen.some((seen) => seen.index === gpu.index)) {
        this.#gpusSeen = [...this.#gpusSeen, { index: gpu.index, name: gpu.name }].sort((a, b) => a.index - b.index);
      }
    }
    const generation = sample.generation;
    if (generation && (this.#lastContext?.used !== generation.contextUsed || this.#lastContext.size !== generation.contextSize)) {
      this.#lastContext = { used: generation.contextUsed, size: generation.contextSize };
    }

    if (!publish) return;
    this.#latest = sample;
    this.#revision += 1;
    const oldest = this.#markers[0];
    if (oldest && oldest.at < cutoff) this.#markers = this.#markers.filter((marker) => marker.at >= cutoff);
  }

  #addMarkers(incoming: MonitorMarker[]): void {
    if (incoming.length === 0) return;
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a scratch map for one merge; the store's #markers is what is observed
    const byKey = new Map(this.#markers.map((marker) => [markerKey(marker), marker]));
    for (const marker of incoming) byKey.set(markerKey(marker), marker);
    const newest = this.#samples.at(-1)?.at ?? Date.now();
    const cutoff = newest - this.#windowMs;
    this.#markers = [...byKey.values()].filter((marker) => marker.at >= cutoff).sort((a, b) => a.at - b.at);
  }
}

export const monitor = new MonitorStore();
