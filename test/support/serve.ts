// Runs `quanta serve` as a person would (the real CLI, the built renderer, the real engine)
// and hands back the URL it prints.

import { spawn, type ChildProcess } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { CLI_ENTRY, tempDir } from "./paths.js";

export interface ServedApp {
  url: string;
  home: string;
  output: () => string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function serveApp(
  modelFolders: string[],
  args: string[] = ["--port", "0"],
  /** Writes into the data folder before the app starts (e.g. conversations to open). */
  seedHome?: (home: string) => Promise<void>,
): Promise<ServedApp> {
  const home = await tempDir("serve-home");
  await seedHome?.(home);
  const child = spawn(process.execPath, [CLI_ENTRY, "serve", ...args], {
    env: { ...process.env, QUANTA_HOME: home, QUANTA_MODELS: modelFolders.join(path.delimiter) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`quanta serve printed no URL within 60 s:\n${output}`)), 60_000);
    const check = () => {
      const match = /Open (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`quanta serve exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    home,
    output: () => output,
    process: child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      await fs.rm(home, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium (or PLAYWRIGHT_CHROMIUM), headless, with a fresh profile. */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = await tempDir("chromium");
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.PLAYWRIGHT_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
    viewport: { width: 1200, height: 800 },
  });
  return {
    context,
    async close() {
      await context.close();
      await fs.rm(profile, { recursive: true, force: true });
    },
  };
}
