// Runs `quanta serve` as a person would (the real CLI, the built renderer, the real engine)
// and hands back the URL it prints; opens it in Debian's Chromium. `servedInChromium` is the
// two together, set up and taken down around one test file.

import { spawn, type ChildProcess } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
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

export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Debian's Chromium (or PLAYWRIGHT_CHROMIUM), headless, with a fresh profile. */
export async function launchChromium(): Promise<Chromium> {
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

/** One test file's Quanta in Chromium (see servedInChromium). */
export interface AppInChromium {
  /** The one models folder `quanta serve` was started with; removed afterwards. */
  readonly models: string;
  readonly app: ServedApp;
  readonly chromium: Chromium;
  /** A page opened before the first test, not yet at the app; its errors go to the test output. */
  readonly page: Page;
}

export interface AppInChromiumOptions {
  /** Model files to copy into the models folder: file name → the file to copy. */
  copy?: Record<string, string>;
  /** Writes more into the models folder (synthetic models) before the app starts. */
  fill?: (folder: string) => Promise<void>;
  /** Writes into the app's data folder before it starts (conversations to open). */
  seedHome?: (home: string) => Promise<void>;
  viewport?: { width: number; height: number };
}

/**
 * Registers a test file's set-up and tear-down: before its first test, a fresh models folder
 * (`name` prefixes it), `quanta serve` on it and Chromium with one page; after its last, all
 * of it closed and removed. The fields are there from the first test on (and in any
 * beforeAll registered after this call).
 */
export function servedInChromium(name: string, options: AppInChromiumOptions = {}): AppInChromium {
  let models: string | undefined;
  let app: ServedApp | undefined;
  let browser: Chromium | undefined;
  let page: Page | undefined;
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not set up: the test file's beforeAll failed or has not run yet.`);
    return value;
  };
  beforeAll(async () => {
    models = await tempDir(name);
    for (const [fileName, source] of Object.entries(options.copy ?? {})) await fs.copyFile(source, path.join(models, fileName));
    await options.fill?.(models);
    app = await serveApp([models], ["--port", "0"], options.seedHome);
    browser = await launchChromium();
    const opened = await browser.context.newPage();
    if (options.viewport) await opened.setViewportSize(options.viewport);
    opened.on("pageerror", (error) => console.error("page error:", error.message));
    page = opened;
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    if (models !== undefined) await fs.rm(models, { recursive: true, force: true });
  });
  return {
    get models() {
      return ready(models, "The models folder");
    },
    get app() {
      return ready(app, "quanta serve");
    },
    get chromium() {
      return ready(browser, "Chromium");
    },
    get page() {
      return ready(page, "The page");
    },
  };
}
