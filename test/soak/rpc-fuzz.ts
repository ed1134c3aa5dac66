// Fault loop: malformed RPC messages against a real `quanta serve` over its WebSocket, with
// the token (wrong types, unknown methods, huge strings, deep nesting, array-likes with
// huge lengths, null frames, invalid UTF-8, binary frames, a 50 MB frame). Every call must
// be answered with an error or have its one connection closed; the core never exits and
// its memory stays bounded. Loopback only; the loop stops by itself after `iterations`.

import { readFileSync } from "node:fs";
import { promises as fs } from "node:fs";
import { tempDir } from "../support/paths.js";
import { openRpcSocket, type RpcOutcome, type RpcSocket } from "../support/raw-client.js";
import { serveApp } from "../support/serve.js";

export interface SoakResult {
  name: string;
  figures: Record<string, number | string>;
  ok: boolean;
}

/** What a malformed message must get: an error answer, or its connection closed. */
type Expect = "error" | "close";

interface Probe {
  kind: string;
  expect: Expect;
  /** Sends the message; a call returns its outcome, a frame resolves when the socket closes. */
  send(rpc: RpcSocket, id: string): Promise<RpcOutcome>;
}

/** Memory growth allowed over the whole loop; about 2 GB per message before the envelope check. */
const RSS_GROWTH_LIMIT_BYTES = 150 * 1024 * 1024;
const MIB = 1024 * 1024;

function memory(pid: number): { rss: number; peak: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
    const peak = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
    return Number.isFinite(rss) && Number.isFinite(peak) ? { rss, peak } : null;
  } catch {
    return null;
  }
}

/** A small seeded generator, so a failing run can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sends a raw frame and waits for the server to close the connection (or times out). */
function frameThatCloses(rpc: RpcSocket, data: string | Buffer, binary = false): Promise<RpcOutcome> {
  if (binary) rpc.socket.send(data, { binary: true });
  else rpc.sendText(data);
  return Promise.race([
    rpc.closed.then((code): RpcOutcome => ({ kind: "closed", code })),
    new Promise<RpcOutcome>((resolve) =>
      setTimeout(() => resolve({ kind: "error", code: "no_answer", message: "still open after 10 s" }), 10_000),
    ),
  ]);
}

function deep(depth: number, leaf = "0"): string {
  return `${"[".repeat(depth)}${leaf}${"]".repeat(depth)}`;
}

function probes(next: () => number): Probe[] {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const wrongValues = [null, 42, -1, 1e308, "", "x", true, [], {}, [[]], { chatId: 5 }, { chatId: "../../etc" }, { length: 3 }];
  const realMethods = [
    "getAppInfo",
    "listChats",
    "openChat",
    "sendMessage",
    "loadModel",
    "renameChat",
    "searchChats",
    "addEvalText",
    "setHubAddress",
    "watchHardware",
  ];
  return [
    {
      kind: "wrong argument types",
      expect: "error",
      send: (rpc, id) => rpc.call(id, pick(realMethods.slice(1)), [pick(wrongValues), ...(next() < 0.3 ? [pick(wrongValues)] : [])]),
    },
    {
      kind: "unknown method",
      expect: "error",
      send: (rpc, id) =>
        rpc.call(
          id,
          pick(["noSuchMethod", "__proto__", "constructor", "toString", "hasOwnProperty", "$call", "then", "x".repeat(200), "", "a b"]),
          [],
        ),
    },
    {
      kind: "huge string",
      expect: "error",
      send: (rpc, id) =>
        rpc.call(id, pick(["searchChats", "renameChat", "setHubAddress"]), [
          { query: "界".repeat(Math.floor(200_000 + next() * 800_000)) },
        ]),
    },
    {
      kind: "deep nesting in arguments",
      expect: "error",
      send: (rpc, id) =>
        rpc.callText(
          id,
          `{"t":"q","i":"${id}","m":"${pick(["openChat", "sendMessage", "getAppInfo"])}","a":[${deep(5_000 + Math.floor(next() * 20_000))}]}`,
        ),
    },
    {
      kind: "array-like arguments with a huge length",
      expect: "error",
      send: (rpc, id) => rpc.call(id, "getAppInfo", { length: pick([120_000_000, 4_294_967_295, 1e15, -1, "9999999999"]) }),
    },
    {
      kind: "too many arguments",
      expect: "error",
      send: (rpc, id) => rpc.call(id, "getAppInfo", new Array(9 + Math.floor(next() * 5_000)).fill(0)),
    },
    { kind: "null frame", expect: "close", send: (rpc) => frameThatCloses(rpc, pick(["null", "42", "[]", '"q"', "true", "{}"])) },
    {
      kind: "request id nested deep",
      expect: "close",
      send: (rpc) => frameThatCloses(rpc, `{"t":"q","m":"getAppInfo","a":[],"i":${deep(20_000)}}`),
    },
    {
      kind: "id of the wrong type",
      expect: "close",
      send: (rpc) => frameThatCloses(rpc, `{"t":"q","m":"getAppInfo","a":[],"i":${pick(["1", "{}", "true", `"${"i".repeat(100)}"`])}}`),
    },
    { kind: "not JSON", expect: "close", send: (rpc) => frameThatCloses(rpc, pick(["{", "t:q", "\u0000", '{"t":"q"'])) },
    {
      kind: "invalid UTF-8",
      expect: "close",
      send: (rpc) => frameThatCloses(rpc, Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0xff, 0xfe, 0x22, 0x7d])),
    },
    {
      kind: "binary frame",
      expect: "close",
      send: (rpc) => frameThatCloses(rpc, Buffer.from('{"t":"q","i":"1","m":"getAppInfo","a":[]}'), true),
    },
  ];
}

const FIFTY_MB_FRAME: Probe = {
  kind: "50 MB frame",
  expect: "close",
  send: (rpc) => frameThatCloses(rpc, Buffer.alloc(50 * MIB, 0x61)),
};

export async function runRpcFuzz(options: { iterations: number; seed?: number }): Promise<SoakResult> {
  const seed = options.seed ?? 13;
  const next = random(seed);
  const models = await tempDir("rpc-fuzz-models");
  const app = await serveApp([models]);
  const pid = app.process.pid ?? 0;
  const counts = { answeredWithError: 0, connectionsClosed: 0, wrongOutcome: 0, reconnects: 0 };
  const wrong: string[] = [];
  const started = performance.now();
  let before: ReturnType<typeof memory>;
  let after: ReturnType<typeof memory> = null;
  let finalCall: RpcOutcome = { kind: "error", code: "not_run", message: "" };
  try {
    let rpc = await openRpcSocket(app.url);
    // Warm up with well-formed calls so the baseline holds what a normal session allocates.
    for (let i = 0; i < 20; i += 1) await rpc.call(`warm-${i}`, "listChats", []);
    before = memory(pid);

    const all = probes(next);
    const bigFrameAt = Math.floor(options.iterations / 2);
    for (let i = 0; i < options.iterations; i += 1) {
      if (app.process.exitCode !== null || app.process.signalCode !== null) break;
      const probe = i === bigFrameAt ? FIFTY_MB_FRAME : (all[Math.floor(next() * all.length)] as Probe);
      const outcome = await probe.send(rpc, `f${i}`);
      const fine = probe.expect === "error" ? outcome.kind === "error" && outcome.code === "invalid_request" : outcome.kind === "closed";
      if (outcome.kind === "error" && outcome.code !== "no_answer") counts.answeredWithError += 1;
      if (outcome.kind === "closed") counts.connectionsClosed += 1;
      if (!fine) {
        counts.wrongOutcome += 1;
        if (wrong.length < 5) wrong.push(`${probe.kind}: ${JSON.stringify(outcome).slice(0, 160)}`);
      }
      if (outcome.kind === "closed" || rpc.socket.readyState !== rpc.socket.OPEN) {
        rpc.close();
        rpc = await openRpcSocket(app.url);
        counts.reconnects += 1;
      }
    }
    if (app.process.exitCode === null && app.process.signalCode === null) {
      finalCall = await rpc.call("final", "getAppInfo", []);
      after = memory(pid);
    }
    rpc.close();
  } finally {
    await app.stop();
    await fs.rm(models, { recursive: true, force: true });
  }

  const coreAlive = finalCall.kind === "result";
  const growth = before && after ? after.rss - before.rss : null;
  const memoryBounded = growth === null || growth < RSS_GROWTH_LIMIT_BYTES;
  return {
    name: "malformed RPC messages",
    figures: {
      messages: options.iterations,
      "answered with an error": counts.answeredWithError,
      "connection closed": counts.connectionsClosed,
      "wrong or no answer": counts.wrongOutcome,
      "core exits": coreAlive ? 0 : 1,
      "RSS before (MiB)": before ? Math.round(before.rss / MIB) : "not measured",
      "RSS after (MiB)": after ? Math.round(after.rss / MIB) : "not measured",
      "peak RSS (MiB)": after ? Math.round(after.peak / MIB) : "not measured",
      seconds: Math.round((performance.now() - started) / 100) / 10,
      seed,
      ...(wrong.length > 0 ? { "first wrong answers": wrong.join(" | ") } : {}),
    },
    ok: coreAlive && counts.wrongOutcome === 0 && memoryBounded,
  };
}

/** The soak runner's entry: `npm run soak` calls it with 10,000 iterations. */
export default runRpcFuzz;
