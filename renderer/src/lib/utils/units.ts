// The app's one convention for sizes: binary units (KiB, MiB, GiB), as llama.cpp, memory and
// the Lab's charts and CSV state them. Every size shown goes through formatBytes (i18n/index.ts),
// which words the number from scaleBytes in the user's language.

export const KIB = 1024;
export const MIB = 1024 * KIB;
export const GIB = 1024 * MIB;

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

/** A byte count as a value and its binary unit: 389,120 → 380 KiB; digits: decimals to show. */
export function scaleBytes(bytes: number): { value: number; unit: (typeof UNITS)[number]; digits: number } {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return { value, unit: UNITS[unit] ?? "B", digits: Math.abs(value) < 10 && unit > 0 ? 1 : 0 };
}
