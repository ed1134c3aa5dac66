// Memory in use from Linux's /proc/meminfo. Pure: text in, bytes out.
//
// "Used" is MemTotal − MemAvailable: the kernel's own estimate of what could be handed to a
// program without swapping, so page cache that would be dropped on demand does not count as
// used (free(1) and every modern system monitor do the same). os.freemem() on Linux is
// MemAvailable too since Node 18, but it has no swap figures.

export interface MemoryInfo {
  totalBytes: number;
  usedBytes: number;
  /** null when the file does not list swap (never on Linux, but the parser does not assume). */
  swapTotalBytes: number | null;
  swapUsedBytes: number | null;
}

/** Values in /proc/meminfo are in kibibytes ("kB" there means 1024 bytes). */
export function parseMeminfo(text: string): MemoryInfo | null {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (match?.[1] && match[2]) values.set(match[1], Number(match[2]) * 1024);
  }
  const total = values.get("MemTotal");
  if (total === undefined || total <= 0) return null;
  // Kernels before 3.14 have no MemAvailable; free + buffers + cache is the old approximation.
  const available = values.get("MemAvailable") ?? (values.get("MemFree") ?? 0) + (values.get("Buffers") ?? 0) + (values.get("Cached") ?? 0);
  const swapTotal = values.get("SwapTotal");
  const swapFree = values.get("SwapFree");
  const hasSwap = swapTotal !== undefined && swapFree !== undefined;
  return {
    totalBytes: total,
    usedBytes: clamp(total - available, 0, total),
    swapTotalBytes: hasSwap ? swapTotal : null,
    swapUsedBytes: hasSwap ? clamp(swapTotal - swapFree, 0, swapTotal) : null,
  };
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
