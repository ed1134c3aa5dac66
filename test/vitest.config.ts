// Three projects: unit (pure logic, parallel), integration (the real engine process and real
// GGUF files, one file at a time), e2e (quanta serve driven by Chromium, one file at a time).

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    reporters: ["default", "./test/support/summary-reporter.ts"],
    projects: [
      {
        test: {
          name: "unit",
          // The renderer's pure logic (lib/utils) is tested beside it, type-checked by svelte-check.
          include: ["test/unit/**/*.test.ts", "renderer/src/**/*.test.ts"],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
