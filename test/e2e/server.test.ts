// End to end, as a person sets up the local API: `quanta serve` driven by Chromium. The
// Server view picks a port and starts the server; a request made by the test shows in the
// live log with its figures; the curl example, run exactly as shown, gets an answer.

import { execFile } from "node:child_process";
import net from "node:net";
import { describe, expect, it } from "vitest";
import { STORIES_MODEL } from "../support/paths.js";
import { servedInChromium } from "../support/serve.js";

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const e2e = servedInChromium("e2e-server-models", {
  copy: { "stories260K.gguf": STORIES_MODEL },
});

describe("the Server view", () => {
  it("starts the API on the chosen port", async () => {
    await e2e.page.goto(e2e.app.url);
    await e2e.page.getByRole("tab", { name: "Server" }).click();
    await expect.poll(() => e2e.page.getByTestId("server-state").textContent(), { timeout: 30_000 }).toBe("Stopped");
    const port = await freePort();
    await e2e.page.getByTestId("server-port").fill(String(port));
    await e2e.page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => e2e.page.getByRole("button", { name: "Save" }).isDisabled()).toBe(true);
    await e2e.page.getByRole("button", { name: "Start server" }).click();
    await expect.poll(() => e2e.page.getByTestId("server-state").textContent()).toBe("Running");
    expect(await e2e.page.getByTestId("server-address").textContent()).toBe(`http://127.0.0.1:${port}/v1`);
  });

  it("shows a request made by a client in the live log", async () => {
    const baseUrl = (await e2e.page.getByTestId("server-address").textContent()) ?? "";
    const response = await fetch(`${baseUrl}/chat/completions`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ model: "stories260K", messages: [{ role: "user", content: "Hello" }], max_tokens: 8 }),
    });
    expect(response.status).toBe(200);
    const row = e2e.page.getByTestId("request-log").locator("tbody tr").filter({ hasText: "/v1/chat/completions" });
    await expect.poll(() => row.count(), { timeout: 30_000 }).toBe(1);
    await expect.poll(() => row.locator("td").nth(7).textContent()).toBe("200");
    expect(await row.locator("td").nth(2).textContent()).toBe("stories260K");
    expect(await row.locator("td").nth(4).textContent()).toBe("8");
  });

  it("the curl example works exactly as shown", async () => {
    const example = (await e2e.page.getByTestId("example-curl").textContent()) ?? "";
    expect(example).toContain("stories260K");
    const output = await new Promise<string>((resolve, reject) => {
      execFile("bash", ["-c", `${example} --silent --show-error --max-time 60`], (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
      );
    });
    const body = JSON.parse(output) as { object: string; choices: Array<{ message: { role: string; content: string } }> };
    expect(body.object).toBe("chat.completion");
    expect(body.choices[0]?.message.role).toBe("assistant");
    expect(body.choices[0]?.message.content.length).toBeGreaterThan(0);
    await expect
      .poll(() => e2e.page.getByTestId("request-log").locator("tbody tr").filter({ hasText: "/v1/chat/completions" }).count())
      .toBe(2);
  });
});
