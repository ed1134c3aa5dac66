// End to end, as a person uses it: `quanta serve`, Chromium, pick the model, load it, send
// a message, watch the reply stream in, stop a reply, start a new chat.

import { promises as fs } from "node:fs";
import path from "node:path";
import WebSocket from "ws";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, STORIES_MODEL } from "../support/paths.js";
import { servedInChromium } from "../support/serve.js";
import { chooseModel } from "../support/model-picker.js";
import { writeTalkerModel } from "../support/talker-model.js";

const e2e = servedInChromium("e2e-models", {
  copy: { "stories260K.gguf": STORIES_MODEL },
  fill: writeTalkerModel,
});

/** Picks a model by its file name in the "Model" combobox, loads it, waits until it is ready. */
async function loadModel(fileStem: string): Promise<void> {
  await chooseModel(e2e.page, fileStem);
  const status = e2e.page.getByRole("status", { name: "Engine status" });
  // First load on this machine: the thread count is measured, and the status says so.
  await expect
    .poll(async () => `${await status.getAttribute("data-state")} ${await status.textContent()}`, { timeout: 120_000 })
    .toMatch(new RegExp(`^ready .*${fileStem} .*\\d+ threads? \\(calibrated\\)`));
}

describe("quanta serve", () => {
  it("prints one URL with a token, and refuses the WebSocket without it", async () => {
    const url = new URL(e2e.app.url);
    expect(url.hostname).toBe("127.0.0.1");
    const token = url.searchParams.get("token") ?? "";
    expect(token.length).toBeGreaterThanOrEqual(24);
    // One character off: the last one changed (a random token may end in "x" already).
    const oneOff = `${token.slice(0, -1)}${token.endsWith("x") ? "y" : "x"}`;
    for (const bad of ["", "?token=wrong", `?token=${oneOff}`]) {
      const refused = await new Promise<string>((resolve) => {
        const socket = new WebSocket(`ws://${url.host}/rpc${bad}`);
        socket.on("open", () => resolve("open"));
        socket.on("unexpected-response", (_request, response) => resolve(String(response.statusCode)));
        socket.on("error", () => resolve("error"));
      });
      expect(refused).toBe("401");
    }
  });

  // Path escapes are tried with raw request targets in serve-hardening.test.ts: fetch()
  // normalizes "/../x" to "/x" before sending, so a check here could not fail.
  it("serves the app with a strict content security policy", async () => {
    const index = await fetch(new URL("/", new URL(e2e.app.url)));
    expect(index.status).toBe(200);
    expect(index.headers.get("content-security-policy")).toContain("script-src 'self'");
  });
});

describe("chatting in the browser", () => {
  it("picks stories260K, loads it, sends a message and reads a streamed reply with its speed", async () => {
    await e2e.page.goto(e2e.app.url);
    await loadModel("stories260K");

    await e2e.page.getByRole("textbox", { name: "Message" }).fill("Once upon a time there was a cat.");
    await e2e.page.getByRole("button", { name: "Send" }).click();
    await expect.poll(() => e2e.page.getByText("Once upon a time there was a cat.").count()).toBeGreaterThan(0);
    // The reply streams into an "Assistant" message; its figures appear once it is complete.
    const reply = e2e.page.getByRole("article", { name: "Assistant" }).last();
    await reply.getByText(/tok\/s · [\d.,]+ ms to first token · [\d,]+ tokens/).waitFor({ timeout: 60_000 });
    expect((await reply.textContent())?.length).toBeGreaterThan(40);
    await expect.poll(() => e2e.page.getByRole("textbox", { name: "Message" }).inputValue()).toBe("");

    await fs.mkdir(path.join(REPO_ROOT, "test-results"), { recursive: true });
    await e2e.page.screenshot({ path: path.join(REPO_ROOT, "test-results", "chat.png") });
  });

  it("stops a reply that would otherwise run on; the chat survives a reload; a new chat starts empty", async () => {
    await loadModel("synthetic-talker");
    // The context meter follows the reply while it streams, not only once it is done.
    const meter = e2e.page.getByRole("meter", { name: "Context used" });
    const tokensUsed = async () =>
      Number(/^([\d,]+) of/.exec((await meter.getAttribute("aria-valuetext")) ?? "")?.[1]?.replaceAll(",", "") ?? NaN);
    const before = (await meter.count()) === 1 ? await tokensUsed() : 0;
    await e2e.page.getByRole("textbox", { name: "Message" }).fill("Talk forever.");
    await e2e.page.getByRole("button", { name: "Send" }).click();
    const stop = e2e.page.getByRole("button", { name: "Stop" });
    await stop.waitFor({ state: "visible" });
    // The first figures come from the reply on its way (this model's prompt, not the last reply's count).
    await expect.poll(tokensUsed, { timeout: 30_000 }).not.toBe(before);
    const early = await tokensUsed();
    expect(early).toBeGreaterThan(0);
    await expect.poll(tokensUsed, { timeout: 30_000 }).toBeGreaterThan(early);
    // Still streaming: the rise came from the reply on its way, not from its end.
    expect(await stop.isVisible()).toBe(true);
    await stop.click();
    await e2e.page
      .getByRole("article", { name: "Assistant" })
      .last()
      .getByText(/stopped/i)
      .waitFor({ timeout: 30_000 });
    await expect.poll(() => stop.count()).toBe(0);
    const stoppedText = await e2e.page.getByRole("article", { name: "Assistant" }).last().textContent();

    await e2e.page.reload();
    const messages = e2e.page.getByRole("log", { name: "Messages" });
    await messages.getByText("Talk forever.").waitFor();
    await expect.poll(() => e2e.page.getByRole("article", { name: "Assistant" }).last().textContent()).toBe(stoppedText);

    await e2e.page.getByRole("button", { name: "New chat" }).click();
    await expect.poll(() => messages.getByText("Talk forever.").count()).toBe(0);
    await expect.poll(() => e2e.page.getByRole("article").count()).toBe(0);
  });
});
