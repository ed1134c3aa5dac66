// End to end, a message being written is the person's work too: each conversation keeps its
// own draft while another one is open and across a reload, until it is sent.

import { describe, expect, it } from "vitest";
import { loadModelAndWait } from "../support/model-picker.js";
import { STORIES_MODEL } from "../support/paths.js";
import { servedInChromium } from "../support/serve.js";

const e2e = servedInChromium("e2e-drafts", {
  copy: { "stories260K.gguf": STORIES_MODEL },
});

const composer = () => e2e.page.getByRole("textbox", { name: "Message" });
const sidebar = () => e2e.page.getByRole("navigation", { name: "Conversations" });
const log = () => e2e.page.getByRole("log", { name: "Messages" });
/** Waits until the conversation on show has `count` replies, the last one complete and saved (its figures shown). */
async function finished(count: number): Promise<void> {
  const replies = log().getByRole("article", { name: "Assistant" });
  await expect.poll(() => replies.count(), { timeout: 60_000 }).toBe(count);
  await replies
    .last()
    .getByText(/tok\/s · [\d.,]+ ms to first token/)
    .waitFor({ timeout: 60_000 });
}

describe("a message being written", () => {
  it("stays with its conversation across a switch and a reload, until it is sent", async () => {
    await e2e.page.goto(e2e.app.url);
    await loadModelAndWait(e2e.page, "stories260K");
    // Two conversations with a message each, so both are in the list.
    for (const text of ["The cat sat on the mat.", "The dog ran home."]) {
      if (text !== "The cat sat on the mat.") {
        await e2e.page.getByRole("button", { name: "New chat" }).click();
        await expect.poll(() => e2e.page.getByRole("article").count()).toBe(0);
      }
      await composer().fill(text);
      await e2e.page.getByRole("button", { name: "Send" }).click();
      await finished(1);
    }
    const open = (title: RegExp) => sidebar().getByRole("button", { name: title }).click();

    await composer().fill("And then the dog");
    await open(/^The cat sat on the mat\./);
    await log().getByText("The cat sat on the mat.").waitFor();
    // The other conversation's draft does not follow.
    expect(await composer().inputValue()).toBe("");
    await composer().fill("And then the cat\nslept");

    await e2e.page.reload();
    await log().getByText("The dog ran home.").waitFor();
    await expect.poll(() => composer().inputValue()).toBe("And then the dog");
    await open(/^The cat sat on the mat\./);
    await expect.poll(() => composer().inputValue()).toBe("And then the cat\nslept");

    // Sent: gone from the composer, and it stays gone after a reload.
    await e2e.page.getByRole("button", { name: "Send" }).click();
    await log().getByText("slept").waitFor();
    expect(await composer().inputValue()).toBe("");
    await finished(2);
    await e2e.page.reload();
    await log().getByText("slept").waitFor();
    await expect.poll(() => composer().inputValue()).toBe("");
    // The dog's draft is still there.
    await open(/^The dog ran home\./);
    await expect.poll(() => composer().inputValue()).toBe("And then the dog");
  });
});
