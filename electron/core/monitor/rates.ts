// Rates from cumulative counters: a process's CPU time as a fraction of one core, and a
// reply's generated tokens per second over about the last second. Pure: the caller passes
// the clock, so tests need no waiting.

/** CPU time used between two readings of one process, as a fraction of one core. */
export class ProcessCpuRate {
  private previous: { pid: number; cpuMicros: number; atMs: number } | null = null;

  /**
   * Records a reading; returns the fraction since the previous one, or null on the first
   * reading of a process (a new pid starts over) and when the counter went backwards.
   */
  update(pid: number, cpuMicros: number, atMs: number): number | null {
    const previous = this.previous;
    this.previous = { pid, cpuMicros, atMs };
    if (!previous || previous.pid !== pid) return null;
    const elapsedMicros = (atMs - previous.atMs) * 1000;
    const used = cpuMicros - previous.cpuMicros;
    if (!(elapsedMicros > 0) || !(used >= 0)) return null;
    return used / elapsedMicros;
  }

  reset(): void {
    this.previous = null;
  }
}

export interface TokenPoint {
  atMs: number;
  tokens: number;
}

/** Tokens per second are measured over at least this span, when the points reach back that far. */
export const TOKEN_RATE_WINDOW_MS = 1000;
/** A reply that produced nothing for this long is reported at 0 tokens/s (stalled, or ended). */
const STALL_MS = 5000;
const MAX_POINTS = 1024;

/**
 * Tokens per second over roughly the last second, from (time, generated tokens so far)
 * points: the engine's deltas, about 60 a second. The span runs from the newest point at
 * least a second older than the latest to the latest, so it is never shorter than a second
 * once the reply is that old, and the first token (which carries the prompt's processing
 * time) is only ever a starting point, never inside a span.
 */
export class TokenRate {
  private points: TokenPoint[] = [];

  add(atMs: number, tokens: number): void {
    const last = this.points.at(-1);
    if (last && (tokens < last.tokens || atMs < last.atMs))
      this.points = []; // a new reply, or a clock step
    else if (last && tokens === last.tokens) return; // nothing new
    this.points.push({ atMs, tokens });
    // Keep what the window needs (the newest point older than a second, and everything after).
    const cutoff = atMs - TOKEN_RATE_WINDOW_MS;
    let keepFrom = 0;
    for (let index = this.points.length - 1; index >= 0; index -= 1) {
      if ((this.points[index]?.atMs ?? 0) <= cutoff) {
        keepFrom = index;
        break;
      }
    }
    if (keepFrom > 0) this.points = this.points.slice(keepFrom);
    if (this.points.length > MAX_POINTS) this.points = this.points.slice(-MAX_POINTS);
  }

  /** Tokens per second at `nowMs`; 0 before two points exist and after a stall. */
  perSecond(nowMs: number): number {
    const latest = this.points.at(-1);
    if (!latest || nowMs - latest.atMs > STALL_MS) return 0;
    const cutoff = latest.atMs - TOKEN_RATE_WINDOW_MS;
    let reference = this.points[0];
    for (const point of this.points) {
      if (point.atMs <= cutoff) reference = point;
      else break;
    }
    if (!reference || reference === latest || latest.atMs <= reference.atMs) return 0;
    return ((latest.tokens - reference.tokens) * 1000) / (latest.atMs - reference.atMs);
  }

  reset(): void {
    this.points = [];
  }
}
