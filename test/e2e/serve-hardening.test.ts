// `quanta serve` as an attacker and an unlucky client meet it: raw request targets, forged
// Host and Origin headers, WebSocket protocol errors and malformed RPC envelopes. One bad
// connection is closed; the core never exits and its memory stays bounded.

import { spawn } from "node:child_process";
import { promises as fs, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_ENTRY, tempDir } from "../support/paths.js";
import { openRpcSocket, rawHttp, upgradeHeaders } from "../support/raw-client.js";
import { launchChromium, serveApp, type ServedApp } from "../support/serve.js";

let models: string;
let app: ServedApp;
let port: number;
let token: string;

beforeAll(async () => {
  models = await tempDir("hardening-models");
  app = await serveApp([models]);
  const url = new URL(app.url);
  port = Number(url.port);
  token = url.searchParams.get("token") ?? "";
});

afterAll(async () => {
  /* eslint-disable @typescript-eslint/no-unnecessary-condition -- beforeAll may have thrown before assigning these, so they can be undefined here */
  await app?.stop();
  /* eslint-enable @typescript-eslint/no-unnecessary-condition */
  await fs.rm(models, { recursive: true, force: true });
});

/** The core is still up and answers a well-formed call on a fresh connection. */
async function expectCoreAnswers(): Promise<void> {
  expect(app.process.exitCode).toBeNull();
  const rpc = await openRpcSocket(app.url);
  const outcome = await rpc.call("alive", "getAppInfo", []);
  expect(outcome).toMatchObject({ kind: "result" });
  rpc.close();
}

/** Peak resident memory of the core (VmHWM), in bytes; null where /proc is missing. */
function peakRss(pid: number): number | null {
  try {
    const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kib === undefined ? null : Number(kib) * 1024;
  } catch {
    return null;
  }
}

describe("WebSocket protocol errors close one connection, never the core", () => {
  it("closes a connection that sends a frame over the size limit (1009)", async () => {
    const rpc = await openRpcSocket(app.url);
    rpc.sendText("x".repeat(5 * 1024 * 1024));
    expect(await rpc.closed).toBe(1009);
    await expectCoreAnswers();
  });

  it("closes a connection that sends a text frame with invalid UTF-8 (1007)", async () => {
    const rpc = await openRpcSocket(app.url);
    rpc.sendText(Buffer.from([0x7b, 0xff, 0xfe, 0xc0, 0xaf, 0x7d]));
    expect(await rpc.closed).toBe(1007);
    await expectCoreAnswers();
  });
});

describe("malformed RPC envelopes are refused before the RPC layer sees them", () => {
  it("closes a connection that sends null, a bare value or a message without a usable id", async () => {
    for (const frame of ["null", "42", '"q"', "[]", '{"t":"x"}', '{"t":"q","m":"getAppInfo","a":[],"i":{"deep":true}}']) {
      const rpc = await openRpcSocket(app.url);
      rpc.sendText(frame);
      expect(await rpc.closed, frame).toBe(1008);
    }
    await expectCoreAnswers();
  });

  it("survives a request id nested 20,000 deep", async () => {
    const rpc = await openRpcSocket(app.url);
    rpc.sendText(`{"t":"q","m":"getAppInfo","a":[],"i":${"[".repeat(20_000)}${"]".repeat(20_000)}}`);
    expect(await rpc.closed).toBe(1008);
    await expectCoreAnswers();
  });

  it("answers calls with a bad method or bad arguments with invalid_request, on the same connection", async () => {
    const rpc = await openRpcSocket(app.url);
    expect(await rpc.call("1", "noSuchMethod", [])).toMatchObject({ kind: "error", code: "invalid_request" });
    expect(await rpc.call("2", "constructor", [])).toMatchObject({ kind: "error", code: "invalid_request" });
    expect(await rpc.call("3", "getAppInfo", "not an array")).toMatchObject({ kind: "error", code: "invalid_request" });
    expect(await rpc.call("4", "x".repeat(100_000), [])).toMatchObject({ kind: "error", code: "invalid_request" });
    expect(await rpc.call("5", "getAppInfo", [])).toMatchObject({ kind: "result" });
    rpc.close();
  });

  it("refuses an array-like argument list with a huge length at once, without allocating it", async () => {
    const before = peakRss(app.process.pid ?? 0);
    const rpc = await openRpcSocket(app.url);
    const outcome = await rpc.call("1", "getAppInfo", { length: 120_000_000 });
    expect(outcome).toMatchObject({ kind: "error", code: "invalid_request" });
    expect(await rpc.call("2", "getAppInfo", new Array(10_000).fill(0))).toMatchObject({ kind: "error", code: "invalid_request" });
    rpc.close();
    const after = peakRss(app.process.pid ?? 0);
    if (before === null || after === null) {
      console.warn("peak memory not measured: /proc/<pid>/status is not readable on this system");
    } else {
      // Turning the array-like into an array took about 2 GB before the envelope was checked.
      expect(after - before).toBeLessThan(200 * 1024 * 1024);
    }
    await expectCoreAnswers();
  });
});

describe("only this machine's names reach the server (DNS rebinding)", () => {
  it("serves a page to the bound address's names and refuses any other Host with 403", async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      const response = await rawHttp(port, ["GET / HTTP/1.1", `Host: ${host}`, "Connection: close"]);
      expect(response.status, host).toBe(200);
    }
    for (const host of [
      `evil.example:${port}`,
      "evil.example",
      `127.0.0.1:${port + 1}`,
      `localhost.evil.example:${port}`,
      "",
      `127.0.0.1:${port}@evil.example`,
    ]) {
      const response = await rawHttp(port, ["GET / HTTP/1.1", `Host: ${host}`, "Connection: close"]);
      expect(response.status, host).toBe(403);
    }
    // HTTP/1.0 without any Host header at all.
    expect((await rawHttp(port, ["GET / HTTP/1.0"])).status).toBe(403);
  });

  it("refuses a WebSocket upgrade whose Host or Origin is not this server's, even with the token", async () => {
    const target = `GET /rpc?token=${token} HTTP/1.1`;
    const good = `127.0.0.1:${port}`;
    const accepted = await rawHttp(port, [target, ...upgradeHeaders(good, [`Origin: http://${good}`])]);
    expect(accepted.status).toBe(101);
    // A rebinding page: Host and Origin agree with each other, both the attacker's name.
    const rebinding = await rawHttp(port, [target, ...upgradeHeaders(`evil.example:${port}`, [`Origin: http://evil.example:${port}`])]);
    expect(rebinding.status).toBe(403);
    for (const origin of ["http://evil.example", `http://${good}.evil.example`, "null", `https://${good}`]) {
      const response = await rawHttp(port, [target, ...upgradeHeaders(good, [`Origin: ${origin}`])]);
      expect(response.status, origin).toBe(403);
    }
    const noToken = await rawHttp(port, ["GET /rpc HTTP/1.1", ...upgradeHeaders(good, [`Origin: http://${good}`])]);
    expect(noToken.status).toBe(401);
    // Request targets that are not URLs at all.
    for (const target of ["http://[", "//[", "http://a%00b/rpc"]) {
      const response = await rawHttp(port, [`GET ${target} HTTP/1.1`, ...upgradeHeaders(good)]);
      expect([400, 401], target).toContain(response.status);
    }
    await expectCoreAnswers();
  });
});

describe("no request target leaves the renderer folder", () => {
  it("answers raw traversal targets with 404 or 400, never a file from outside", async () => {
    const targets = [
      "/../package.json",
      "/..%2f..%2fpackage.json",
      "/%2e%2e/%2e%2e/package.json",
      "/%2e%2e/%2e%2e/etc/passwd",
      "//etc/passwd",
      "/..\\..\\package.json",
      "/%5c..%5c..%5cpackage.json",
      "/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
      "/%c0%af..%c0%afpackage.json",
      "/index.html%00.js",
      "/assets/%00",
      "/%252e%252e/package.json",
      "http://127.0.0.1/../../etc/passwd",
      "/.%2e/.%2e/etc/passwd",
    ];
    for (const target of targets) {
      const response = await rawHttp(port, [`GET ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, "Connection: close"]);
      expect([400, 404], target).toContain(response.status);
      expect(response.body, target).not.toMatch(/root:|"name": "quanta"/);
    }
  });
});

describe("in the browser", () => {
  let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
  afterAll(async () => chromium?.close());

  it("takes the token out of the address bar and still connects after a reload", async () => {
    chromium = await launchChromium();
    const page = await chromium.context.newPage();
    await page.goto(app.url);
    const status = page.getByRole("status", { name: "Engine status" });
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).not.toMatch(/Connecting/);
    expect(page.url()).not.toContain("token");
    expect(page.url()).not.toContain(token);
    await page.reload();
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).not.toMatch(/Connecting/);
    expect(page.url()).not.toContain(token);
    await page.close();
  });

  it("adds a Lab text of 1.5 M Chinese characters (4.5 MB, over one message's limit) in parts", async () => {
    chromium ??= await launchChromium();
    const page = await chromium.context.newPage();
    page.on("pageerror", (error) => console.error("page error:", error.message));
    await page.goto(app.url);
    await page.getByRole("tab", { name: "Lab" }).click();
    // The limit is said before anything is chosen.
    await page.getByText("Plain text, up to 2,000,000 characters").waitFor();
    const phrase = "量化会降低模型的精度，但也让它在普通电脑上跑得更快。";
    const text = phrase.repeat(Math.ceil(1_500_000 / phrase.length)).slice(0, 1_500_000);
    expect(Buffer.byteLength(text)).toBeGreaterThan(4 * 1024 * 1024);
    await page.locator('input[type="file"]').setInputFiles({ name: "long-chinese.txt", mimeType: "text/plain", buffer: Buffer.from(text) });
    const option = page
      .getByRole("combobox", { name: "Evaluation text" })
      .getByRole("option", { name: /^long-chinese\.txt · 1,500,000 characters$/ });
    await option.waitFor({ state: "attached", timeout: 60_000 });
    expect(app.process.exitCode).toBeNull();
    // The core kept every character, in order.
    const saved = await fs.readdir(`${app.home}/lab/texts`).catch(() => [] as string[]);
    const stored = await Promise.all(
      saved.map(async (file) => JSON.parse(await fs.readFile(`${app.home}/lab/texts/${file}`, "utf8")) as { title: string; text: string }),
    );
    const added = stored.find((entry) => entry.title === "long-chinese.txt");
    expect(added?.text === text).toBe(true);
    await page.close();
  });

  it("refuses a text over the limit in the page, before sending anything", async () => {
    chromium ??= await launchChromium();
    const page = await chromium.context.newPage();
    await page.goto(app.url);
    await page.getByRole("tab", { name: "Lab" }).click();
    await page
      .locator('input[type="file"]')
      .setInputFiles({ name: "too-long.txt", mimeType: "text/plain", buffer: Buffer.from("a".repeat(2_000_001)) });
    await page.getByText(/longer than an evaluation text may be/).waitFor();
    const options = await page.getByRole("combobox", { name: "Evaluation text" }).getByRole("option").allTextContents();
    expect(options.some((label) => label.includes("too-long.txt"))).toBe(false);
    await page.close();
  });
});

describe("binding beyond this machine", () => {
  it("refuses --host 0.0.0.0 without --allow-remote, and warns when it is given", async () => {
    const home = await tempDir("remote-home");
    try {
      const refused = await runCli(["serve", "--host", "0.0.0.0", "--port", "0"], home, /Open http|exited/);
      expect(refused.code).toBe(2);
      expect(refused.output).toMatch(/--allow-remote/);
      expect(refused.output).not.toMatch(/Open http/);

      const allowed = await runCli(["serve", "--host", "0.0.0.0", "--port", "0", "--allow-remote"], home, /Open http/);
      expect(allowed.output).toMatch(/Warning: .*plain HTTP/i);
    } finally {
      await fs.rm(home, { recursive: true, force: true });
    }
  });
});

/** Runs the CLI until its output matches `until` (then stops it) or it exits. */
function runCli(args: string[], home: string, until: RegExp): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [CLI_ENTRY, ...args], {
    env: { ...process.env, QUANTA_HOME: home, QUANTA_MODELS: models },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGTERM"), 60_000);
    const check = () => {
      if (until.test(output)) child.kill("SIGTERM");
    };
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      check();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      check();
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
