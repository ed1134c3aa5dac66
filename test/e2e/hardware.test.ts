// End to end, as a person uses the hardware view: `quanta serve`, Chromium, stories260K.
// The strip under the chat shows CPU and RAM; the Hardware view's figures rise while a reply
// runs (read from the text beside the charts, since canvas pixels cannot be read); there is
// no GPU here and the view says so; the compute panel measures memory bandwidth; the
// recorded window exports as CSV and as a PNG of the charts; and a lost connection pauses
// the view without losing what it recorded, until it is back.

import { promises as fs } from "node:fs";
import path from "node:path";
import type { Download } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, STORIES_MODEL } from "../support/paths.js";
import { startRelay, type Relay } from "../support/relay.js";
import { servedInChromium } from "../support/serve.js";
import { chooseModel } from "../support/model-picker.js";

let relay: Relay;

const e2e = servedInChromium("e2e-hw-models", { copy: { "stories260K.gguf": STORIES_MODEL } });

beforeAll(async () => {
  // The page reaches the server through a relay the last test cuts.
  relay = await startRelay(e2e.app.url);
});

afterAll(async () => {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- beforeAll may have thrown before starting it
  await relay?.close();
});

/** The number in a readout such as "1,234.5 tok/s", "37%" or "12.4 GB/s"; NaN when there is none. */
function numberIn(text: string | null): number {
  const match = /(\d[\d,]*(?:\.\d+)?)/.exec(text ?? "");
  return match?.[1] ? Number(match[1].replaceAll(",", "")) : Number.NaN;
}

async function readout(name: string): Promise<string> {
  return (await e2e.page.getByRole("status", { name, exact: true }).textContent())?.trim() ?? "";
}

async function downloaded(button: string): Promise<{ download: Download; bytes: Buffer }> {
  const [download] = await Promise.all([e2e.page.waitForEvent("download"), e2e.page.getByRole("button", { name: button }).click()]);
  const file = await download.path();
  return { download, bytes: await fs.readFile(file) };
}

describe("the hardware view", () => {
  it("shows CPU and RAM in the strip under the chat from the first sample", async () => {
    await e2e.page.goto(relay.url);
    const strip = e2e.page.getByRole("region", { name: "Hardware summary" });
    await expect
      .poll(() => strip.textContent(), { timeout: 20_000 })
      .toMatch(/CPU\s*\d+%.*RAM\s*[\d.,]+ [KMGT]?i?B \/ [\d.,]+ [KMGT]?i?B.*VRAM\s*no GPU/);
  });

  it("loads stories260K, follows a reply on the charts, and says there is no GPU", async () => {
    await chooseModel(e2e.page, "stories260K");
    const status = e2e.page.getByRole("status", { name: "Engine status" });
    await expect.poll(() => status.getAttribute("data-state"), { timeout: 120_000 }).toBe("ready");

    await e2e.page.getByRole("tab", { name: "Hardware" }).click();
    await expect.poll(() => e2e.page.getByRole("tab", { name: "Hardware" }).getAttribute("aria-selected")).toBe("true");
    const rate = e2e.page.getByRole("combobox", { name: "Sample rate" });
    expect(await rate.inputValue()).toBe("1000");
    // Four samples a second, so even a quick reply is caught several times.
    await rate.selectOption({ label: "4 Hz" });

    const gpu = e2e.page.getByRole("region", { name: "GPU" });
    await expect.poll(() => gpu.textContent()).toContain("Not available on this machine");
    expect(await gpu.textContent()).toMatch(/nvidia-smi/);
    expect(await readout("Current CPU use")).toMatch(/^\d+%$/);

    // A reply, sent from the chat and watched from the Hardware view.
    await e2e.page.getByRole("tab", { name: "Chat" }).click();
    await e2e.page.getByRole("textbox", { name: "Message" }).fill("Once upon a time there was a cat.");
    await e2e.page.getByRole("button", { name: "Send" }).click();
    await e2e.page.getByRole("tab", { name: "Hardware" }).click();
    await expect.poll(async () => numberIn(await readout("Peak generation speed")), { timeout: 60_000 }).toBeGreaterThan(0);
    await expect.poll(async () => numberIn(await readout("Peak CPU use"))).toBeGreaterThan(0);

    const events = e2e.page.getByRole("list", { name: "Events" });
    await expect.poll(() => events.textContent(), { timeout: 60_000 }).toMatch(/Reply ended.*Reply started.*Model loaded/);
    await expect.poll(() => readout("Current generation speed")).toBe("no reply running");

    const processes = e2e.page.getByRole("table", { name: "Processes" });
    await expect.poll(() => processes.textContent()).toMatch(/Quanta core\s*\d+\s*\d+%\s*[\d.,]+ [KMGT]?i?B/);
    const model = e2e.page.getByRole("region", { name: "Model in use" });
    await expect.poll(() => model.textContent()).toMatch(/Context in use\s*[\d,]+ of 2,048 tokens/);
    expect(await model.textContent()).toMatch(/Threads\s*\d+ threads?/);
    expect(await e2e.page.getByRole("meter", { name: "RAM" }).getAttribute("aria-valuenow")).toMatch(/^\d+$/);

    // The view scrolls inside the window, so a tall window shows all of it.
    await fs.mkdir(path.join(REPO_ROOT, "test-results"), { recursive: true });
    await e2e.page.setViewportSize({ width: 1280, height: 1500 });
    await e2e.page.screenshot({ path: path.join(REPO_ROOT, "test-results", "hardware-light.png") });
    await e2e.page.emulateMedia({ colorScheme: "dark" });
    // Let the buttons' colour transitions finish and the charts redraw in the dark palette.
    await e2e.page.waitForTimeout(500);
    await e2e.page.screenshot({ path: path.join(REPO_ROOT, "test-results", "hardware-dark.png") });
    await e2e.page.emulateMedia({ colorScheme: null });
    await e2e.page.setViewportSize({ width: 1200, height: 800 });
  });

  it("measures memory bandwidth in the compute panel and shows how close generation ran to it", async () => {
    const toggle = e2e.page.getByRole("button", { name: "Compute cost per token" });
    await toggle.click();
    expect(await toggle.getAttribute("aria-expanded")).toBe("true");
    const row = (name: string) => e2e.page.getByRole("row", { name: new RegExp(`^${name}`) });
    await expect.poll(async () => numberIn(await row("FLOPs per token").textContent())).toBeGreaterThan(0);
    await expect.poll(() => row("Measured speed").textContent()).toMatch(/[\d.,]+ tok\/s/);

    await e2e.page.getByRole("button", { name: "Measure memory bandwidth" }).click();
    await expect
      .poll(async () => numberIn((await row("Measured memory bandwidth").textContent())?.match(/[\d.,]+ GB\/s/)?.[0] ?? ""), {
        timeout: 60_000,
      })
      .toBeGreaterThan(0);
    const share = e2e.page.getByRole("meter", { name: "Share of the memory-bandwidth limit" });
    await expect.poll(() => share.getAttribute("aria-valuetext")).toMatch(/^\d+%$/);
  });

  it("exports the recorded window as CSV, one row per sample, and the charts as a PNG", async () => {
    const csv = await downloaded("Export CSV");
    expect(csv.download.suggestedFilename()).toMatch(/^quanta-hardware-.*\.csv$/);
    const lines = csv.bytes.toString("utf8").trimEnd().split("\r\n");
    const header = lines[0]?.split(",") ?? [];
    expect(header.slice(0, 3)).toEqual(["time", "cpu_percent", "cpu_core0_percent"]);
    for (const column of [
      "ram_used_bytes",
      "swap_used_bytes",
      "tokens_per_second",
      "context_used",
      "engine_cpu_percent",
      "engine_rss_bytes",
      "core_cpu_percent",
      "core_rss_bytes",
    ]) {
      expect(header).toContain(column);
    }
    const rows = lines.slice(1).map((line) => line.split(","));
    // Sampled since the page opened (1 Hz, then 4 Hz): well over ten rows, each one sample.
    expect(rows.length).toBeGreaterThan(10);
    for (const row of rows) expect(row.length).toBe(header.length);
    const times = rows.map((row) => Date.parse(row[0] ?? ""));
    expect(times.every((time, index) => index === 0 || time > (times[index - 1] ?? 0))).toBe(true);
    const speed = header.indexOf("tokens_per_second");
    expect(rows.some((row) => Number(row[speed]) > 0)).toBe(true);

    const png = await downloaded("Export PNG");
    expect(png.download.suggestedFilename()).toMatch(/^quanta-hardware-.*\.png$/);
    expect([...png.bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.bytes.length).toBeGreaterThan(10_000);
    await fs.writeFile(path.join(REPO_ROOT, "test-results", "hardware-export.png"), png.bytes);
  });

  it("keeps running through an engine crash, marks the restart, and shows the engine again", async () => {
    const engineRow = e2e.page.getByRole("table", { name: "Processes" }).getByRole("row", { name: /^Engine/ });
    const pid = Number((await engineRow.getByRole("cell").first().textContent())?.trim());
    expect(pid).toBeGreaterThan(0);
    // What a native fault in llama.cpp would do.
    process.kill(pid, "SIGKILL");

    const events = e2e.page.getByRole("list", { name: "Events" });
    await expect.poll(() => events.textContent(), { timeout: 60_000 }).toMatch(/^.*Model loaded.*Engine restarted/);
    await expect
      .poll(async () => Number((await engineRow.getByRole("cell").first().textContent())?.trim()), { timeout: 60_000 })
      .not.toBe(pid);
    expect((await e2e.page.getByRole("status", { name: "Monitor status" }).textContent())?.trim()).toMatch(/^Sampling at 4 Hz/);
  });

  it("keeps what it recorded while the connection is lost, and samples again once it is back", async () => {
    const monitorStatus = e2e.page.getByRole("status", { name: "Monitor status" });
    const status = { textContent: async () => (await monitorStatus.textContent())?.trim() ?? "" };
    await expect.poll(() => status.textContent()).toMatch(/^Sampling at 4 Hz · .* recorded$/);
    const peak = await readout("Peak generation speed");

    relay.cut();
    await e2e.page.getByRole("alert").getByText("Connection to Quanta lost.").first().waitFor({ timeout: 20_000 });
    await expect.poll(() => status.textContent()).toMatch(/^Connection lost: the charts hold what was recorded/);
    expect(await readout("Peak generation speed")).toBe(peak);
    expect(await e2e.page.getByRole("list", { name: "Events" }).textContent()).toMatch(/Reply ended.*Reply started.*Model loaded/);
    await e2e.page.getByRole("tab", { name: "Chat" }).click();
    await expect
      .poll(() => e2e.page.getByRole("region", { name: "Hardware summary" }).textContent())
      .toContain("Paused while the connection is down");

    relay.restore();
    // The page also retries on its own: the button may be gone before the click lands.
    await e2e.page
      .getByRole("button", { name: "Reconnect now" })
      .click({ timeout: 5_000 })
      .catch(() => undefined);
    await expect
      .poll(() => e2e.page.getByRole("region", { name: "Hardware summary" }).textContent(), { timeout: 20_000 })
      .not.toContain("Paused");
    await e2e.page.getByRole("tab", { name: "Hardware" }).click();
    await expect.poll(() => status.textContent(), { timeout: 20_000 }).toMatch(/^Sampling at 4 Hz · .* recorded$/);
    expect(await readout("Peak generation speed")).toBe(peak);
    const before = await samplesRecorded();
    await expect.poll(samplesRecorded, { timeout: 10_000 }).toBeGreaterThan(before);
  });
});

/** Rows in a fresh CSV export: how many samples the view holds now. */
async function samplesRecorded(): Promise<number> {
  const { bytes } = await downloaded("Export CSV");
  return bytes.toString("utf8").trimEnd().split("\r\n").length - 1;
}
