// The desktop app, launched for real through Playwright's Electron driver: the window opens
// on app://, the preload hands the page its port to the core, and the UI comes up. Where the
// Electron runtime binary is not installed (its download is blocked on some machines) the
// test is skipped, and the reason is in the suite's name so every reporter shows it.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { _electron as electron } from "playwright-core";
import { describe, expect, it } from "vitest";
import { findElectronRuntime } from "../../electron/common-node/electron-runtime.js";
import { CLI_ENTRY, DIST, REPO_ROOT, tempDir } from "../support/paths.js";

const runtime = findElectronRuntime(REPO_ROOT);
const missing = "missing" in runtime ? runtime.missing : null;
const MAIN_ENTRY = path.join(DIST, "electron", "main", "index.js");

const suiteName = missing === null ? "Electron smoke test" : `Electron smoke test (skipped: ${missing})`;
if (missing !== null) console.warn(`Electron smoke test skipped: ${missing}`);

describe(suiteName, () => {
  it.skipIf(missing !== null)("opens the Quanta window with the Model picker", async () => {
    if ("missing" in runtime) return;
    expect(existsSync(MAIN_ENTRY), `${MAIN_ENTRY} is not built (npm test builds it)`).toBe(true);
    const home = await tempDir("electron-smoke");
    // Chromium refuses its sandbox as root without a setuid helper (containers, CI).
    const rootArgs = process.getuid?.() === 0 ? ["--no-sandbox"] : [];
    const app = await electron.launch({
      executablePath: runtime.path,
      args: [...rootArgs, "--lang=en-US", MAIN_ENTRY],
      env: { ...process.env, QUANTA_HOME: home, QUANTA_MODELS: "" },
      timeout: 60_000,
    });
    try {
      const page = await app.firstWindow();
      expect(page.url()).toMatch(/^app:\/\/quanta\//);
      const title = await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]?.getTitle());
      expect(title).toBe("Quanta");
      await page.getByRole("combobox", { name: "Model" }).waitFor({ state: "visible", timeout: 60_000 });
    } finally {
      await app.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe("quanta start", () => {
  it.skipIf(missing === null)("says in one sentence that Electron is missing and serves the app instead", async () => {
    const home = await tempDir("start");
    const child = spawn(process.execPath, [CLI_ENTRY, "start", "--port", "0"], {
      env: { ...process.env, QUANTA_HOME: home, QUANTA_MODELS: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    try {
      await expect.poll(() => output, { timeout: 60_000 }).toMatch(/Open http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/);
      const firstLine = output.split("\n")[0] ?? "";
      expect(firstLine).toContain("The Electron runtime is not installed");
      expect(firstLine).toContain("Starting headless mode instead");
      const url = /Open (\S+)/.exec(output)?.[1] ?? "";
      expect((await fetch(url)).status).toBe(200);
    } finally {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
      await rm(home, { recursive: true, force: true });
    }
  });
});
