// The recorded window as columns for the charts: one array of numbers per reading (null where
// it was not read), appended at the end and trimmed at the front. Each sample costs O(1)
// amortized: trimming only moves `head`, and the dead rows are cut off once they make up half
// of the arrays. uPlot draws straight from these arrays (x scale set to the window), so no
// sample is ever copied to draw it.

export type Column = (number | null)[];

/** The largest value in a sliding window, in O(1) amortized per row (a monotonic queue). */
class WindowMax {
  #rows: number[] = [];
  #values: number[] = [];
  #start = 0;

  push(row: number, value: number | null): void {
    if (value === null || !Number.isFinite(value)) return;
    while (this.#rows.length > this.#start && (this.#values.at(-1) ?? Infinity) <= value) {
      this.#rows.pop();
      this.#values.pop();
    }
    this.#rows.push(row);
    this.#values.push(value);
  }

  /** Forgets rows before `firstRow`. */
  trim(firstRow: number): void {
    while (this.#start < this.#rows.length && (this.#rows[this.#start] ?? Infinity) < firstRow) this.#start += 1;
    if (this.#start > 64 && this.#start * 2 > this.#rows.length) {
      this.#rows = this.#rows.slice(this.#start);
      this.#values = this.#values.slice(this.#start);
      this.#start = 0;
    }
  }

  get value(): number | null {
    return this.#values[this.#start] ?? null;
  }
}

export class Timeline {
  /** Seconds since the epoch, uPlot's unit for time scales. Rows before `head` are dead. */
  times: number[] = [];
  head = 0;

  #columns = new Map<string, Column>();
  #peaks = new Map<string, WindowMax>();
  /** Rows cut off by compaction, so row numbers stay absolute for the peak queues. */
  #dropped = 0;

  constructor(peakKeys: readonly string[] = []) {
    for (const key of peakKeys) this.#peaks.set(key, new WindowMax());
  }

  /** Rows inside the window. */
  get length(): number {
    return this.times.length - this.head;
  }

  get first(): number | null {
    return this.times[this.head] ?? null;
  }

  get last(): number | null {
    return this.times.at(-1) ?? null;
  }

  /** Appends one row; a key seen for the first time gets a column of nulls before it. */
  append(atSeconds: number, values: Iterable<readonly [string, number | null]>): void {
    const row = this.times.length;
    // Columns first: a new one is padded to `row`, before this row's time is in.
    for (const [key, value] of values) {
      this.column(key).push(value);
      this.#peaks.get(key)?.push(this.#dropped + row, value);
    }
    this.times.push(atSeconds);
    // Readings this sample lacked (an engine restarting, a GPU gone) are gaps, not zeros.
    for (const column of this.#columns.values()) if (column.length <= row) column.push(null);
  }

  /** A row of nulls: the line breaks there instead of joining readings across a pause. */
  appendGap(atSeconds: number): void {
    this.times.push(atSeconds);
    for (const column of this.#columns.values()) column.push(null);
  }

  /** Drops rows older than `beforeSeconds`. */
  trim(beforeSeconds: number): void {
    while (this.head < this.times.length && (this.times[this.head] ?? Infinity) < beforeSeconds) this.head += 1;
    for (const peak of this.#peaks.values()) peak.trim(this.#dropped + this.head);
    if (this.head > 256 && this.head * 2 > this.times.length) {
      const cut = this.head;
      this.times = this.times.slice(cut);
      for (const [key, column] of this.#columns) this.#columns.set(key, column.slice(cut));
      this.#dropped += cut;
      this.head = 0;
    }
  }

  /** The column for `key`, aligned with `times` (created, all null, if never seen). */
  column(key: string): Column {
    let column = this.#columns.get(key);
    if (!column) {
      column = new Array<number | null>(this.times.length).fill(null);
      this.#columns.set(key, column);
    }
    return column;
  }

  has(key: string): boolean {
    return this.#columns.has(key);
  }

  /** The largest value of a tracked column within the window (keys given to the constructor). */
  peak(key: string): number | null {
    return this.#peaks.get(key)?.value ?? null;
  }
}
