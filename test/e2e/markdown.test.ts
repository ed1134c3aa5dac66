// Model output rendered in Chromium: a conversation on disk whose reply holds Markdown with
// a table, a code block, links and hostile HTML. The page shows the table and the code (with
// a copy button), keeps only the https link as a link, and runs or fetches nothing.

import { promises as fs } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { servedInChromium } from "../support/serve.js";

const REPLY = [
  "## Results",
  "",
  "| Quant | Size |",
  "|:--|--:|",
  "| Q4_K_M | 4.1 GB |",
  "| Q8_0 | 7.2 GB |",
  "",
  "```python",
  "def size(bits):  # bytes per weight",
  "    return bits / 8",
  "```",
  "",
  "See [the docs](https://example.org/docs) or [this](javascript:alert(1)).",
  "",
  "<script>window.__pwned = true</script>",
  "",
  '<img src="https://tracker.example/pixel.png" onerror="window.__pwned = true"> ![chart](https://tracker.example/chart.png)',
].join("\n");

const remoteRequests: string[] = [];

const e2e = servedInChromium("e2e-markdown-models", {
  seedHome: async (home) => {
    const at = new Date().toISOString();
    const message = (id: string, role: string, text: string, parentId: string | null) => ({
      type: "message",
      message: { id, role, text, createdAt: at, status: "complete", modelId: null, stats: null, error: null, parentId },
      at,
    });
    const lines = [
      { type: "created", v: 2, id: "markdownchat", title: "Markdown check", at },
      message("u1", "user", "Show me a table.", null),
      message("a1", "assistant", REPLY, "u1"),
    ];
    await fs.mkdir(path.join(home, "chats"), { recursive: true });
    await fs.writeFile(path.join(home, "chats", "markdownchat.jsonl"), lines.map((line) => JSON.stringify(line)).join("\n") + "\n");
  },
});

beforeAll(() => {
  e2e.page.on("request", (request) => {
    if (!request.url().startsWith(new URL(e2e.app.url).origin)) remoteRequests.push(request.url());
  });
});

describe("Markdown in replies", () => {
  it("renders tables, code with a copy button and https links, and nothing from hostile HTML", async () => {
    await e2e.page.goto(e2e.app.url);
    const reply = e2e.page.getByRole("log", { name: "Messages" }).getByRole("article", { name: "Assistant" });
    await reply.getByRole("heading", { name: "Results" }).waitFor();
    const table = reply.getByRole("table");
    expect(await table.getByRole("columnheader").allTextContents()).toEqual(["Quant", "Size"]);
    expect(await table.getByRole("row").count()).toBe(3);
    await reply.getByRole("button", { name: "Copy code" }).waitFor();
    expect(await reply.locator("pre code").textContent()).toBe("def size(bits):  # bytes per weight\n    return bits / 8");
    expect(await reply.locator("pre code .keyword").allTextContents()).toContain("def");

    const links = reply.getByRole("link");
    expect(await links.count()).toBe(1);
    expect(await links.first().getAttribute("href")).toBe("https://example.org/docs");
    await reply.getByText("this", { exact: true }).waitFor();

    // The hostile HTML is shown as text; nothing ran and nothing was fetched.
    await reply.getByText("<script>window.__pwned = true</script>").waitFor();
    expect(await reply.locator("script, img, iframe").count()).toBe(0);
    // (Evaluated in the page, written as text: the test's own types have no DOM.)
    expect(await e2e.page.evaluate("window.__pwned ?? false")).toBe(false);
    expect(remoteRequests).toEqual([]);
  });

  it("copies a code block, and opens an https link in a new tab through the core", async () => {
    const reply = e2e.page.getByRole("log", { name: "Messages" }).getByRole("article", { name: "Assistant" });
    await e2e.chromium.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(e2e.app.url).origin });
    await reply.getByRole("button", { name: "Copy code" }).click();
    await reply.getByText("Copied").waitFor();
    expect(await e2e.page.evaluate("navigator.clipboard.readText()")).toBe("def size(bits):  # bytes per weight\n    return bits / 8");

    // Nothing leaves the machine in a test: the tab's request is answered here.
    await e2e.chromium.context.route("https://example.org/**", (route) => route.fulfill({ body: "docs", contentType: "text/plain" }));
    const [tab] = await Promise.all([e2e.chromium.context.waitForEvent("page"), reply.getByRole("link", { name: "the docs" }).click()]);
    await tab.waitForURL("https://example.org/docs");
    // Opened with noopener: the new tab cannot reach back into Quanta's page.
    expect(await tab.evaluate("window.opener")).toBeNull();
    await tab.close();
    // The page stayed where it was (its address without the token, which it takes out once read).
    expect(e2e.page.url()).toBe(new URL("/", e2e.app.url).href);
  });
});
