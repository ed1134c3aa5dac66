// The monitor's memory: a ring buffer of the last `windowMs` of timestamped items (samples,
// markers). Bounded twice: by age, and by a fixed capacity (the window at the fastest
// sampling rate), so a clock jump or a flood can never grow it.

export class TimeWindow<T extends { at: number }> {
  private readonly items: (T | undefined)[];
  private start = 0;
  private count = 0;

  constructor(
    readonly windowMs: number,
    readonly capacity: number,
  ) {
    if (!(capacity >= 1)) throw new RangeError("a time window holds at least one item");
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** The newest item, if any. */
  get latest(): T | undefined {
    return this.count === 0 ? undefined : this.items[(this.start + this.count - 1) % this.capacity];
  }

  push(item: T): void {
    this.evictOlderThan(item.at - this.windowMs);
    if (this.count === this.capacity) {
      this.items[this.start] = undefined;
      this.start = (this.start + 1) % this.capacity;
      this.count -= 1;
    }
    this.items[(this.start + this.count) % this.capacity] = item;
    this.count += 1;
  }

  /** Oldest first; only items inside the window that ends at `nowMs`. */
  toArray(nowMs = Date.now()): T[] {
    this.evictOlderThan(nowMs - this.windowMs);
    const out: T[] = [];
    for (let offset = 0; offset < this.count; offset += 1) {
      const item = this.items[(this.start + offset) % this.capacity];
      if (item) out.push(item);
    }
    return out;
  }

  clear(): void {
    this.items.fill(undefined);
    this.start = 0;
    this.count = 0;
  }

  private evictOlderThan(cutoff: number): void {
    while (this.count > 0) {
      const oldest = this.items[this.start];
      if (oldest && oldest.at >= cutoff) return;
      this.items[this.start] = undefined;
      this.start = (this.start + 1) % this.capacity;
      this.count -= 1;
    }
  }
}

/**
 * `next` with the parts that equal `previous`'s replaced by `previous`'s own objects. Ten
 * minutes of samples repeat the same missing readings, model footprint and GPU names
 * thousands of times; sharing them keeps the window's memory to the numbers that change.
 */
export function shareUnchanged<T>(previous: T | undefined, next: T): T {
  if (previous === undefined) return next;
  return sameJson(previous, next) ? previous : next;
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => sameJson(item, b[index]));
  }
  if (Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) => sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}
