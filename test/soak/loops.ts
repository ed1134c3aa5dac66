// The fault suite's loops, in the order the table shows them. Each module exports one
// SoakLoop (soak-loop.ts); adding a loop is one line here: its compiled file and its count.

export interface SoakEntry {
  /** The loop's module, beside this file (compiled: .js). Its default export, or its one exported function, is the loop. */
  file: string;
  /** The full run's count, in the loop's own unit. */
  iterations: number;
  /** The count `npm run soak -- --short` uses. */
  short: number;
}

export const LOOPS: SoakEntry[] = [
  { file: "./two-clients.js", iterations: 60, short: 8 },
  { file: "./engine-kills.js", iterations: 50, short: 3 },
  { file: "./core-kills.js", iterations: 50, short: 3 },
  { file: "./full-disk.js", iterations: 40, short: 10 },
  // { file: "./hostile-gguf.js", iterations: 1, short: 1 },
  // { file: "./rpc-fuzz.js", iterations: 10_000, short: 500 },
];
