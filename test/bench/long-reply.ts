// `npm run bench`: long replies through the whole app, with Chromium showing the chat.
//
// 1. stories260K fills its 2,048-token context with one reply (about 2,000 tokens): the
//    tok/s the UI reports ÷ raw LlamaContextSequence.evaluate over the same number of tokens,
//    same thread count, same sampling, measured in this run (target ≥ 0.95).
// 2. A reply of about 20,000 characters or more (llama-2-tiny-random, 4,000 tokens of long
//    pieces, in conversations set to allow them): the page's long tasks (PerformanceObserver "longtask", > 50 ms of main thread) while it
//    streams — the cost of rendering Markdown as it grows.
//
// Needs the built app (npm run build) and Chromium (/usr/bin/chromium or PLAYWRIGHT_CHROMIUM).

import { promises as fs } from "node:fs";
import path from "node:path";
import { getLlama, LlamaLogLevel, resolveChatWrapper, type Token } from "node-llama-cpp";
import type { Page } from "playwright-core";
import { DEFAULT_CHAT_SETTINGS, resolveSampling } from "../../electron/contract/chat-settings.js";
import { STORIES_MODEL, TINY_RANDOM_MODEL, tempDir } from "../support/paths.js";
import { launchChromium, serveApp } from "../support/serve.js";

const ROUNDS = Number(process.env.QUANTA_BENCH_ROUNDS ?? 3);
const PROMPT = "Once upon a time";

interface UiReply {
  tokens: number;
  tokensPerSecond: number;
  characters: number;
  longTasks: number;
  longTaskMs: number;
  longestTaskMs: number;
  threads: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Parses "1,234.5" as the page writes numbers in English. */
function number(text: string): number {
  return Number(text.replace(/,/g, ""));
}

async function loadModel(page: Page, fileStem: string): Promise<number> {
  const picker = page.getByRole("combobox", { name: "Model" });
  const option = picker.getByRole("option", { name: new RegExp(`^${fileStem} `) });
  await picker.selectOption({ label: (await option.textContent())?.trim() ?? "" });
  await page.getByRole("button", { name: "Load model" }).click();
  const status = page.getByRole("status", { name: "Engine status" });
  for (let waited = 0; waited < 240; waited++) {
    const state = await status.getAttribute("data-state");
    const text = (await status.textContent()) ?? "";
    const threads = /(\d+) threads?/.exec(text);
    if (state === "ready" && text.includes(fileStem) && threads?.[1]) return Number(threads[1]);
    await page.waitForTimeout(500);
  }
  throw new Error(`${fileStem} did not load`);
}

/** Conversations on disk whose replies may be 4,000 tokens long (the preset's limit is 2,048). */
async function seedLongChats(home: string): Promise<void> {
  const at = new Date().toISOString();
  const settings = { systemPrompt: "", preset: "balanced", overrides: { maxTokens: 4000 }, contextSize: null, chatTemplate: null };
  await fs.mkdir(path.join(home, "chats"), { recursive: true });
  for (let round = 0; round < ROUNDS; round++) {
    const id = `longreply${round}`;
    const lines = [
      { type: "created", v: 2, id, title: `Long reply ${round}`, at },
      { type: "settings", settings, at },
    ];
    await fs.writeFile(path.join(home, "chats", `${id}.jsonl`), lines.map((line) => JSON.stringify(line)).join("\n") + "\n");
  }
}

/**
 * Sends a message in a new chat (or the named one) and waits for the reply's stats line; the
 * page records long tasks meanwhile.
 */
async function uiReply(page: Page, threads: number, chatTitle?: string): Promise<UiReply> {
  if (chatTitle === undefined) await page.keyboard.press("Control+Shift+O");
  else
    await page
      .getByRole("navigation", { name: "Conversations" })
      .getByRole("button", { name: new RegExp(`^${chatTitle}`) })
      .click();
  await page.evaluate(() => {
    (globalThis as unknown as { __longTasks: number[] }).__longTasks = [];
  });
  await page.getByRole("textbox", { name: "Message" }).fill(PROMPT);
  await page.getByRole("button", { name: "Send" }).click();
  const reply = page.getByRole("article", { name: "Assistant" }).last();
  const stats = reply.getByText(/([\d.,]+) tok\/s · [\d.,]+ ms to first token · ([\d,]+) tokens/);
  await stats.waitFor({ timeout: 300_000 });
  const line = (await stats.textContent()) ?? "";
  const match = /([\d.,]+) tok\/s · [\d.,]+ ms to first token · ([\d,]+) tokens/.exec(line);
  const tasks = await page.evaluate(() => (globalThis as unknown as { __longTasks: number[] }).__longTasks);
  const characters = ((await reply.locator(".markdown").textContent()) ?? "").length;
  return {
    tokens: number(match?.[2] ?? "0"),
    tokensPerSecond: number(match?.[1] ?? "0"),
    characters,
    longTasks: tasks.length,
    longTaskMs: tasks.reduce((sum, ms) => sum + ms, 0),
    longestTaskMs: Math.max(0, ...tasks),
    threads,
  };
}

/**
 * Raw evaluate on `file` at `threads`, with the app's sampling: `rate(tokens, seed)` is one
 * reply's generation rate over `tokens` tokens, first token excluded.
 */
async function rawEvaluator(file: string, threads: number, contextSize: number) {
  const llama = await getLlama({ gpu: "auto", build: "never", maxThreads: 0, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: file });
  const context = await model.createContext({ contextSize: Math.min(contextSize, model.trainContextSize), threads });
  const sequence = context.getSequence();
  const wrapper = resolveChatWrapper(model);
  const prompt: Token[] = wrapper
    .generateContextState({
      chatHistory: [
        { type: "user", text: PROMPT },
        { type: "model", response: [] },
      ],
    })
    .contextText.tokenize(model.tokenizer);
  const sampling = resolveSampling(DEFAULT_CHAT_SETTINGS);
  return {
    async rate(tokens: number, seed: number): Promise<number> {
      await sequence.clearHistory();
      let count = 0;
      let first = 0;
      for await (const _token of sequence.evaluate(prompt, {
        temperature: sampling.temperature,
        topK: sampling.topK,
        topP: sampling.topP,
        minP: sampling.minP,
        seed,
      })) {
        count += 1;
        if (count === 1) first = performance.now();
        if (count >= tokens || sequence.nextTokenIndex >= sequence.contextSize - 1) break;
      }
      return ((count - 1) * 1000) / (performance.now() - first);
    },
    async close(): Promise<void> {
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

function longTasks(replies: readonly UiReply[]): string {
  return (
    `${median(replies.map((r) => r.longTasks))} long tasks, ${median(replies.map((r) => r.longTaskMs)).toFixed(0)} ms in them, ` +
    `the longest ${median(replies.map((r) => r.longestTaskMs)).toFixed(0)} ms (medians)`
  );
}

export async function benchLongReply(): Promise<void> {
  const models = await tempDir("bench-long-reply");
  await fs.copyFile(STORIES_MODEL, path.join(models, "stories260K.gguf"));
  await fs.copyFile(TINY_RANDOM_MODEL, path.join(models, "tiny-random.gguf"));
  const app = await serveApp([models], ["--port", "0"], seedLongChats);
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.addInitScript(() => {
      const w = globalThis as unknown as { __longTasks: number[] };
      w.__longTasks = [];
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) w.__longTasks.push(entry.duration);
      }).observe({ type: "longtask" as never, buffered: true });
    });
    await page.goto(app.url);

    console.log(`\nLong replies in the app with Chromium showing the chat (${ROUNDS} rounds each)`);
    const threads = await loadModel(page, "stories260K");
    const raw = await rawEvaluator(STORIES_MODEL, threads, 2048);
    // Alternating rounds, so that drift in the machine's load touches both alike.
    const stories: UiReply[] = [];
    const rawRates: number[] = [];
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const reply = await uiReply(page, threads);
        stories.push(reply);
        rawRates.push(await raw.rate(reply.tokens, round + 1));
      }
    } finally {
      await raw.close();
    }
    const tokens = median(stories.map((r) => r.tokens));
    const ui = median(stories.map((r) => r.tokensPerSecond));
    const rawRate = median(rawRates);
    console.log(
      `  stories260K, ${threads} thread(s): UI-reported ${ui.toFixed(1)} tok/s over ${tokens} tokens (${median(stories.map((r) => r.characters))} characters); raw evaluate ${rawRate.toFixed(1)} tok/s over the same`,
    );
    console.log(`  UI ÷ raw evaluate: ${(ui / rawRate).toFixed(3)} (target ≥ 0.95); the page: ${longTasks(stories)}`);

    const tinyThreads = await loadModel(page, "tiny-random");
    const long: UiReply[] = [];
    for (let round = 0; round < ROUNDS; round++) long.push(await uiReply(page, tinyThreads, `Long reply ${round}`));
    console.log(
      `  a ${median(long.map((r) => r.characters))}-character reply (${median(long.map((r) => r.tokens))} tokens): ${longTasks(long)}`,
    );
  } finally {
    await browser.close();
    await app.stop();
    await fs.rm(models, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchLongReply();
