// Download speed over the last few seconds: a short window, so the speed and the time left
// follow a connection that slows down, without jumping with every chunk.

const WINDOW_MS = 3000;

export class TransferRate {
  private readonly points: Array<{ at: number; bytes: number }> = [];

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Records the total bytes received so far. */
  add(totalBytes: number): void {
    const at = this.now();
    this.points.push({ at, bytes: totalBytes });
    while (this.points.length > 2 && (this.points[0]?.at ?? at) < at - WINDOW_MS) this.points.shift();
  }

  /** Bytes per second over the window; null until two readings at least 100 ms apart exist. */
  bytesPerSecond(): number | null {
    const first = this.points[0];
    const last = this.points.at(-1);
    if (!first || !last || last.at - first.at < 100) return null;
    return ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
  }
}
