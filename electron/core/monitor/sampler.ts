// When to sample: only while at least one watcher (a renderer) watches, at the smallest
// interval any of them asked for, one sample at a time. A sample that runs long delays the
// next one instead of overlapping it.

import { DEFAULT_SAMPLE_INTERVAL_MS } from "../../contract/api.js";

export interface SampleTask {
  /** Called when sampling starts: take the baseline readings that rates are measured from. */
  start(intervalMs: number): Promise<void>;
  sample(): Promise<void>;
  /** The effective interval changed while sampling. */
  retime(intervalMs: number): void;
  stop(): void;
}

export class Sampler<W> {
  private readonly watchers = new Map<W, number>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  /** Bumped on every start and stop, so work from an earlier run cannot schedule the next tick. */
  private epoch = 0;
  private inFlight: Promise<void> | null = null;
  private lastStartedAt = 0;
  private currentInterval = DEFAULT_SAMPLE_INTERVAL_MS;

  constructor(private readonly task: SampleTask) {}

  /** The interval in force: the smallest requested, or the default when nobody watches. */
  get intervalMs(): number {
    return this.currentInterval;
  }

  get active(): boolean {
    return this.running;
  }

  /** Everyone watching now. */
  watcherList(): W[] {
    return [...this.watchers.keys()];
  }

  /** Adds or re-times a watcher; starts sampling if it is the first. Returns the interval in force. */
  watch(watcher: W, intervalMs: number): number {
    this.watchers.set(watcher, intervalMs);
    this.update();
    return this.currentInterval;
  }

  unwatch(watcher: W): void {
    if (this.watchers.delete(watcher)) this.update();
  }

  isWatching(watcher: W): boolean {
    return this.watchers.has(watcher);
  }

  stopAll(): void {
    this.watchers.clear();
    this.update();
  }

  private update(): void {
    if (this.watchers.size === 0) {
      this.currentInterval = DEFAULT_SAMPLE_INTERVAL_MS;
      if (this.running) this.stop();
      return;
    }
    const interval = Math.min(...this.watchers.values());
    const changed = interval !== this.currentInterval;
    this.currentInterval = interval;
    if (!this.running) {
      void this.start();
    } else if (changed) {
      this.task.retime(interval);
      // Not mid-sample: move the pending tick to the new interval, counted from the last start.
      if (this.timer) this.schedule(Math.max(0, this.lastStartedAt + interval - performance.now()));
    }
  }

  private async start(): Promise<void> {
    this.running = true;
    const epoch = ++this.epoch;
    // A sample from an earlier run may still be finishing: never two at once.
    if (this.inFlight) await this.inFlight;
    if (epoch !== this.epoch) return;
    try {
      await this.task.start(this.currentInterval);
    } catch {
      // Baselines are best effort: the first sample then reports what it could not measure.
    }
    if (epoch !== this.epoch) return;
    this.lastStartedAt = performance.now();
    this.schedule(this.currentInterval);
  }

  private stop(): void {
    this.running = false;
    this.epoch += 1;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.task.stop();
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    const epoch = this.epoch;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (epoch === this.epoch) void this.tick(epoch);
    }, delayMs);
    // Sampling alone never keeps the process alive (tests, a CLI command that ends).
    this.timer.unref();
  }

  private async tick(epoch: number): Promise<void> {
    const started = performance.now();
    this.lastStartedAt = started;
    const run = this.task.sample().catch(() => undefined);
    this.inFlight = run;
    await run;
    if (this.inFlight === run) this.inFlight = null;
    if (epoch !== this.epoch) return;
    this.schedule(Math.max(0, this.currentInterval - (performance.now() - started)));
  }
}
