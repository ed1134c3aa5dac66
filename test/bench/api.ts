// `npm run bench` (API part): streaming /v1/chat/completions through Quanta's local API
// against llama.cpp's own llama-server, built from the llama.cpp source node-llama-cpp
// bundles. Same model, prompt, sampling, thread count and context size; requests alternate
// between the two in one run, and which goes first alternates by round. Prints generation
// tokens/s and time to first token, and ratios, then the pieces apart, measured after the
// servers' rounds: the engine's own rate, raw node-llama-cpp `evaluate` and a loop on
// llama.cpp's C API (native-loop.ts) in this process, and a thread-pool hop.
//
// llama-server is looked for in $QUANTA_BENCH_CACHE/llama.cpp/build/bin (default the OS temp
// folder's quanta-bench) and built there when missing; when it cannot be, the bench says so
// and measures Quanta alone.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomFill } from "node:crypto";
import { existsSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { Token } from "node-llama-cpp";
import { engineBuildText } from "../../electron/contract/engine-build.js";
import { getBackend } from "../../electron/engine/model-session.js";
import { readGgufHeader } from "../../electron/common-node/gguf/gguf-reader.js";
import { startCore, type CoreHarness } from "../support/core-harness.js";
import { REPO_ROOT, STORIES_MODEL } from "../support/paths.js";
import { nativeLoop } from "./native-loop.js";
import { benchCache, syntheticQ4 } from "./synthetic-model.js";

/** Even, so each server goes first in half the rounds. */
const ROUNDS = 16;
const PROMPT = "Once upon a time, in a small village by the sea, there lived a girl who loved boats.";

interface StreamTiming {
  ttftMs: number;
  tokensPerSecond: number;
  tokens: number;
  /** The server's own generation rate for this reply (Quanta's request log, llama-server's `timings`); null when it gave none. */
  serverTokensPerSecond: number | null;
}

/** The one-minute load average: the machine is shared, so every figure is printed beside it. */
function load(): string {
  return (os.loadavg()[0] ?? 0).toFixed(2);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function run(command: string, args: string[], cwd: string): boolean {
  const result = spawnSync(command, args, { cwd, stdio: "inherit" });
  return result.status === 0;
}

/** llama-server's path, building it from node-llama-cpp's bundled source when missing; null with the reason printed. */
function findOrBuildLlamaServer(): string | null {
  const source = path.join(benchCache(), "llama.cpp");
  const binary = path.join(source, "build", "bin", "llama-server");
  if (existsSync(binary)) return binary;
  console.log(`llama-server is not at ${binary}; building it from node-llama-cpp's bundled llama.cpp source.`);
  const bundle = path.join(REPO_ROOT, "node_modules", "node-llama-cpp", "llama", "gitRelease.bundle");
  if (!existsSync(source)) {
    if (!existsSync(bundle)) {
      console.log(`NOT MEASURED against llama-server: node-llama-cpp's source bundle is missing (${bundle}).`);
      return null;
    }
    if (!run("git", ["clone", "--quiet", bundle, source], benchCache())) {
      console.log("NOT MEASURED against llama-server: cloning the bundled llama.cpp source failed.");
      return null;
    }
  }
  if (
    !existsSync(path.join(source, "build", "CMakeCache.txt")) &&
    !run("cmake", ["-B", "build", "-DLLAMA_CURL=OFF", "-DCMAKE_BUILD_TYPE=Release"], source)
  ) {
    console.log("NOT MEASURED against llama-server: cmake could not configure llama.cpp (is cmake and a C++ compiler installed?).");
    return null;
  }
  if (!run("cmake", ["--build", "build", "--config", "Release", "--target", "llama-server", "-j"], source) || !existsSync(binary)) {
    console.log("NOT MEASURED against llama-server: building llama-server failed (see the compiler's output above).");
    return null;
  }
  return binary;
}

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** One streamed chat completion, timed as a client sees it: first content chunk, last chunk, tokens from usage. */
async function streamOnce(baseUrl: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<StreamTiming> {
  const sent = performance.now();
  const response = await fetch(`${baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
  });
  if (!response.ok || !response.body) throw new Error(`${baseUrl} answered ${response.status}: ${await response.text()}`);
  const decoder = new TextDecoder();
  let buffer = "";
  let first = 0;
  let last = 0;
  let chunks = 0;
  let usageTokens: number | null = null;
  let serverRate: number | null = null;
  for await (const part of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(part, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event
        .split("\n")
        .find((line) => line.startsWith("data: "))
        ?.slice(6);
      if (!data || data === "[DONE]") continue;
      const chunk = JSON.parse(data) as {
        choices?: Array<{ delta?: { content?: string | null } }>;
        usage?: { completion_tokens?: number };
        timings?: { predicted_per_second?: number };
      };
      if (chunk.usage?.completion_tokens !== undefined) usageTokens = chunk.usage.completion_tokens;
      if (chunk.timings?.predicted_per_second !== undefined) serverRate = chunk.timings.predicted_per_second;
      if (chunk.choices?.[0]?.delta?.content) {
        const now = performance.now();
        if (first === 0) first = now;
        last = now;
        chunks += 1;
      }
    }
  }
  const tokens = usageTokens ?? chunks;
  return {
    ttftMs: first - sent,
    tokensPerSecond: last > first ? ((tokens - 1) * 1000) / (last - first) : 0,
    tokens,
    serverTokensPerSecond: serverRate,
  };
}

async function startLlamaServer(
  binary: string,
  file: string,
  threads: number,
  contextSize: number,
): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    binary,
    [
      "-m",
      file,
      "-t",
      String(threads),
      "-tb",
      String(threads),
      "-c",
      String(contextSize),
      "-np",
      "1",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "-ngl",
      "0",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`llama-server exited with ${child.exitCode}:\n${log}`);
    const ready = await fetch(`${url}/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (performance.now() > deadline) throw new Error(`llama-server did not start within 60 s:\n${log}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { url: `${url}/v1`, child };
}

async function eosToken(file: string): Promise<number | null> {
  const header = await readGgufHeader(file);
  const value = header.metadata["tokenizer.ggml.eos_token_id"];
  return typeof value === "number" ? value : null;
}

/**
 * node-llama-cpp on its own in this process: the same file, thread count, context size and
 * sampling, `LlamaContextSequence.evaluate` timed from the first token to the last. It is what
 * Quanta's engine is built on, so Quanta's own loop and hops can be told from the library's cost.
 */
async function rawEvaluator(
  file: string,
  threads: number,
  contextSize: number,
): Promise<{ prompt: readonly Token[]; run(seed: number, tokens: number): Promise<number>; dispose(): Promise<void> }> {
  // The engine's own backend: the same build (a local one from `quanta engine build` is found by its options).
  const llama = await getBackend();
  const model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
  const context = await model.createContext({ contextSize, threads });
  const sequence = context.getSequence();
  const bos = model.tokens.bos;
  const prompt: Token[] = [...(bos === null ? [] : [bos]), ...model.tokenize(PROMPT)];
  return {
    prompt,
    async run(seed, tokens) {
      await sequence.clearHistory();
      let generated = 0;
      let first = 0;
      const options = { temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, seed, yieldEogToken: true };
      for await (const _token of sequence.evaluate(prompt, options)) {
        generated += 1;
        if (generated === 1) first = performance.now();
        if (generated >= tokens) break;
      }
      const elapsed = performance.now() - first;
      return elapsed > 0 ? ((generated - 1) * 1000) / elapsed : 0;
    },
    async dispose() {
      await context.dispose();
      await model.dispose();
    },
  };
}

/**
 * The mean time of one hop to libuv's thread pool and back, as node-llama-cpp makes two per
 * token (the decode, then the sampling, each an N-API async worker), in microseconds. On a
 * busy machine each hop waits for a core twice; llama-server's loop decodes and samples on
 * one thread and makes none.
 */
async function threadPoolHopUs(hops = 256): Promise<number> {
  const buffer = Buffer.alloc(1);
  const started = performance.now();
  for (let hop = 0; hop < hops; hop += 1) await new Promise((resolve) => randomFill(buffer, resolve));
  return ((performance.now() - started) * 1000) / hops;
}

function benchThreads(): number | null {
  const value = process.env.QUANTA_BENCH_API_THREADS;
  if (value === undefined || value === "") return null;
  const threads = Number(value);
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error(`QUANTA_BENCH_API_THREADS must be a whole number of threads, not "${value}".`);
  return threads;
}

interface Row {
  label: string;
  threads: number;
  quanta: { tps: number; ttft: number; engineTps: number | null };
  /** `quantaFaster`: the rounds in which Quanta's rate beat llama-server's, the two side by side. */
  server: { tps: number; ttft: number; ownTps: number | null; quantaFaster: number } | null;
  rawTps: number;
  /** null: the C API loop could not be set up (the reason is printed). */
  nativeTps: number | null;
  hopUs: number;
  loads: string[];
}

function medianOrNull(values: Array<number | null>): number | null {
  const known = values.filter((value): value is number => value !== null);
  return known.length === values.length && known.length > 0 ? median(known) : null;
}

async function bench(label: string, file: string, tokens: number, llamaServer: string | null): Promise<Row> {
  console.log(`\n${label} (${path.basename(file)}), ${tokens} tokens per reply, ${ROUNDS} alternating rounds`);
  const harness: CoreHarness = await startCore([path.dirname(file)]);
  let server: { url: string; child: ChildProcess } | null = null;
  try {
    await harness.waitForEngine("idle");
    const state = await harness.core.apiServer.startWith({ port: 0, requireKeyOnLoopback: false });
    const quantaUrl = state.status.baseUrl ?? "";
    const entry = (await harness.core.api.listModels()).find((model) => model.fileName === path.basename(file));
    if (!entry) throw new Error(`${file} is not in the library`);
    // QUANTA_BENCH_API_THREADS=N sets the count for both, in place of Quanta's calibrated choice.
    const threads = benchThreads();
    const loaded = await harness.core.api.loadModel({ modelId: entry.id, ...(threads === null ? {} : { threads }) });
    console.log(
      `  Quanta: ${loaded.threads} thread(s) (${threads === null ? "its calibrated choice" : "QUANTA_BENCH_API_THREADS"}), context ${loaded.contextSize}`,
    );
    // Same sampling on both. The end-of-text token stays allowed by default (the replies run
    // their full length anyway); QUANTA_BENCH_API_BAN_EOS=1 bans it on both through logit_bias.
    const eos = process.env.QUANTA_BENCH_API_BAN_EOS === "1" ? await eosToken(file) : null;
    const body = {
      model: path.basename(file, ".gguf"),
      messages: [{ role: "user", content: PROMPT }],
      max_tokens: tokens,
      temperature: 0.8,
      top_k: 40,
      top_p: 0.95,
      min_p: 0.05,
      seed: 42,
      ...(eos === null ? {} : { logit_bias: { [String(eos)]: -100 } }),
    };
    if (llamaServer) {
      server = await startLlamaServer(llamaServer, file, loaded.threads, loaded.contextSize);
      console.log(`  llama-server: same file, ${loaded.threads} thread(s), context ${loaded.contextSize}, one slot`);
      console.log(`  Quanta's engine build: ${loaded.build ? engineBuildText(loaded.build) : "not reported"}`);
    }
    // The engine's own rate for a reply: from the request log's entry once it is finished (it
    // may be logged a moment after the client has read the end of the stream).
    const finished = () => harness.events.filter((event) => event.type === "api.request" && event.entry.status !== null);
    const engineRate = async (before: number): Promise<number | null> => {
      const deadline = performance.now() + 1000;
      while (finished().length <= before && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      const event = finished().at(-1);
      return event?.type === "api.request" ? event.entry.tokensPerSecond : null;
    };
    const quantaOnce = async (seed: number): Promise<StreamTiming> => {
      const before = finished().length;
      const timing = await streamOnce(quantaUrl, { ...body, seed });
      return { ...timing, serverTokensPerSecond: await engineRate(before) };
    };
    // A warm-up request each: the prompt is cached on both from here on, as in a conversation.
    await streamOnce(quantaUrl, body);
    if (server) await streamOnce(server.url, body);
    // The two servers back to back in each round, the one that goes first alternating: whichever
    // follows other work on the machine starts at a disadvantage, so neither always does.
    const quanta: StreamTiming[] = [];
    const theirs: StreamTiming[] = [];
    const loads: string[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      loads.push(load());
      const seed = 42 + round;
      const quantaFirst = round % 2 === 0;
      if (server && !quantaFirst) theirs.push(await streamOnce(server.url, { ...body, seed }));
      quanta.push(await quantaOnce(seed));
      if (server && quantaFirst) theirs.push(await streamOnce(server.url, { ...body, seed }));
      const ours = quanta.at(-1);
      const last = theirs.at(-1);
      console.log(
        `  round ${round + 1} (load ${loads.at(-1) ?? "?"}, ${quantaFirst ? "Quanta" : "llama-server"} first): Quanta ${ours?.tokensPerSecond.toFixed(1) ?? "?"} (engine ${ours?.serverTokensPerSecond?.toFixed(1) ?? "?"})` +
          (last ? `, llama-server ${last.tokensPerSecond.toFixed(1)} (own ${last.serverTokensPerSecond?.toFixed(1) ?? "?"})` : "") +
          " tok/s",
      );
    }
    // Then the pieces, in rounds of their own: they run in this process (the core's), and the
    // C API loop loads a second copy of the model, so they are kept away from the servers' rounds.
    const raw = await rawEvaluator(file, loaded.threads, loaded.contextSize);
    const native = await nativeLoop(file, loaded.threads, loaded.contextSize).catch((error: unknown) => {
      console.log(`  C API loop NOT MEASURED: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    });
    await raw.run(42, tokens);
    native?.run(raw.prompt, 42, tokens);
    const rawRates: number[] = [];
    const nativeRates: number[] = [];
    const hops: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      rawRates.push(await raw.run(42 + round, tokens));
      if (native) nativeRates.push(native.run(raw.prompt, 42 + round, tokens));
      hops.push(await threadPoolHopUs());
      console.log(
        `  pieces ${round + 1} (load ${load()}): raw evaluate ${rawRates.at(-1)?.toFixed(1) ?? "?"}, C API loop ${nativeRates.at(-1)?.toFixed(1) ?? "?"} tok/s, thread-pool hop ${hops.at(-1)?.toFixed(0) ?? "?"} µs`,
      );
    }
    await raw.dispose();
    native?.dispose();
    const row: Row = {
      label,
      threads: loaded.threads,
      quanta: {
        tps: median(quanta.map((t) => t.tokensPerSecond)),
        ttft: median(quanta.map((t) => t.ttftMs)),
        engineTps: medianOrNull(quanta.map((t) => t.serverTokensPerSecond)),
      },
      server: server
        ? {
            tps: median(theirs.map((t) => t.tokensPerSecond)),
            ttft: median(theirs.map((t) => t.ttftMs)),
            ownTps: medianOrNull(theirs.map((t) => t.serverTokensPerSecond)),
            quantaFaster: theirs.filter((t, round) => (quanta[round]?.tokensPerSecond ?? 0) > t.tokensPerSecond).length,
          }
        : null,
      rawTps: median(rawRates),
      nativeTps: native ? median(nativeRates) : null,
      hopUs: median(hops),
      loads,
    };
    console.log(
      `  Quanta API: ${row.quanta.tps.toFixed(1)} tok/s, first token ${row.quanta.ttft.toFixed(1)} ms (tokens per reply: ${quanta.map((t) => t.tokens).join(", ")})`,
    );
    if (row.server) {
      console.log(
        `  llama-server: ${row.server.tps.toFixed(1)} tok/s, first token ${row.server.ttft.toFixed(1)} ms (tokens per reply: ${theirs.map((t) => t.tokens).join(", ")})`,
      );
    }
    return row;
  } finally {
    server?.child.kill("SIGTERM");
    await harness.close();
  }
}

const llamaServer = findOrBuildLlamaServer();
const rows = [
  await bench("stories260K", STORIES_MODEL, 256, llamaServer),
  await bench("synthetic 134M Q4_K_M", await syntheticQ4(), 128, llamaServer),
];

const fixed = (value: number | null | undefined): string => (value === null || value === undefined ? "—" : value.toFixed(1));
console.log(
  "\n| model | threads | load avg (rounds) | Quanta API tok/s | llama-server tok/s | ratio (≥1: Quanta faster) | rounds Quanta faster | Quanta TTFT ms | llama-server TTFT ms | TTFT ratio (≥1: Quanta sooner) |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const row of rows) {
  const server = row.server;
  const loads = row.loads.map(Number);
  console.log(
    `| ${row.label} | ${row.threads} | ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} | ${row.quanta.tps.toFixed(1)} | ${server ? server.tps.toFixed(1) : "not measured"} | ${server ? (row.quanta.tps / server.tps).toFixed(3) : "—"} | ${server ? `${server.quantaFaster} of ${ROUNDS}` : "—"} | ${row.quanta.ttft.toFixed(1)} | ${server ? server.ttft.toFixed(1) : "—"} | ${server ? (server.ttft / row.quanta.ttft).toFixed(3) : "—"} |`,
  );
}
console.log("\nThe pieces apart (medians, tok/s; each server's own figure is its generation rate before the HTTP stream):");
console.log(
  "| model | raw node-llama-cpp evaluate | llama.cpp C API loop (FFI) | Quanta engine loop | Quanta API as the client sees it | llama-server's own | llama-server as the client sees it | µs per token over llama-server's (client view) | 2 thread-pool hops, µs |",
);
console.log("|---|---|---|---|---|---|---|---|---|");
for (const row of rows) {
  const server = row.server;
  const overUs = server && row.quanta.tps > 0 && server.tps > 0 ? 1e6 / row.quanta.tps - 1e6 / server.tps : null;
  console.log(
    `| ${row.label} | ${row.rawTps.toFixed(1)} | ${fixed(row.nativeTps)} | ${fixed(row.quanta.engineTps)} | ${row.quanta.tps.toFixed(1)} | ${fixed(server?.ownTps)} | ${fixed(server?.tps)} | ${overUs === null ? "—" : overUs.toFixed(0)} | ${(2 * row.hopUs).toFixed(0)} |`,
  );
}
if (!llamaServer) console.log("\nllama-server could not be found or built: only Quanta's own figures are shown (see above why).");
