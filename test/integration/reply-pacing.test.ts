// How a reply's text leaves the generation loop (ReplyText), with the stories model's real
// tokenizer: the first text at once, the rest about once per DELTA_INTERVAL_MS, every flush
// after the loop's own turn (so it overlaps the next token's decode), stop texts never shown,
// and nothing sent once the reply has ended or failed.

import { setTimeout as sleep } from "node:timers/promises";
import type { LlamaModel, Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getBackend } from "../../electron/engine/model-session.js";
import { DELTA_INTERVAL_MS, FlushSchedule, ReplyText } from "../../electron/engine/reply-text.js";
import { STORIES_MODEL } from "../support/paths.js";

let model: LlamaModel;

beforeAll(async () => {
  const llama = await getBackend();
  model = await llama.loadModel({ modelPath: STORIES_MODEL, gpuLayers: 0 });
});

afterAll(async () => {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- beforeAll may have thrown before assigning it
  await model?.dispose();
});

/** Resolves after the callbacks setImmediate has queued so far. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function reply(stops: string[] = []): { text: ReplyText; sent: string[] } {
  const sent: string[] = [];
  return { text: new ReplyText(model, stops, (piece) => sent.push(piece)), sent };
}

function tokens(text: string): Token[] {
  return model.tokenize(text, false);
}

describe("a reply's text, paced", () => {
  it("sends the first token's text at once, after the loop's turn, and the next ones once the interval has passed", async () => {
    const [first, second, third] = tokens("Once upon a time");
    if (first === undefined || second === undefined || third === undefined) throw new Error("the text has fewer than 3 tokens");
    const { text, sent } = reply();

    text.push(first);
    // Not inside push: the loop asks for the next token first.
    expect(sent).toEqual([]);
    await nextTurn();
    expect(sent).toEqual([model.detokenize([first]).trimStart()]);

    // Within the interval: held.
    text.push(second);
    await nextTurn();
    expect(sent).toHaveLength(1);

    await sleep(DELTA_INTERVAL_MS + 5);
    text.push(third);
    await nextTurn();
    expect(sent).toHaveLength(2);
    expect(sent.join("")).toBe(model.detokenize([first, second, third]).trimStart());
    expect(text.finish()).toBe(false);
    expect(text.value).toBe(sent.join(""));
  });

  it("never shows a stop text, even when it arrives over several tokens, and reports it", async () => {
    const ids = tokens("The cat sat. Human: and more words");
    const { text, sent } = reply(["Human:"]);
    for (const id of ids) {
      text.push(id);
      await nextTurn();
      await sleep(DELTA_INTERVAL_MS + 1);
      if (text.stopped) break;
    }
    expect(text.stopped).toBe(true);
    expect(text.matchedStop).toBe("Human:");
    // Pushed after the stop (the loop's next token): never shown.
    text.push(ids.at(-1) ?? (0 as Token));
    expect(text.finish()).toBe(true);
    expect(text.value).toBe("The cat sat. ");
    expect(sent.join("")).toBe(text.value);
    expect(sent.join("")).not.toContain("Hu");
  });

  it("holds a partly generated stop text back until it is settled, then shows it when it was not one", async () => {
    const { text, sent } = reply(["Human:"]);
    for (const id of tokens("Hello Hu")) text.push(id);
    await nextTurn();
    expect(sent.join("")).toBe("Hello ");
    for (const id of tokens("mble pie")) text.push(id);
    expect(text.finish()).toBe(false);
    expect(sent.join("")).toBe(text.value);
    expect(text.value).toBe(model.detokenize([...tokens("Hello Hu"), ...tokens("mble pie")]).trimStart());
  });

  it("sends nothing once a failed reply is cancelled", async () => {
    const [first] = tokens("Once");
    if (first === undefined) throw new Error("no token");
    const { text, sent } = reply();
    text.push(first);
    text.cancel();
    await nextTurn();
    await sleep(DELTA_INTERVAL_MS + 5);
    expect(sent).toEqual([]);
  });

  it("keeps flushing at every token until some text has gone out, then waits for the interval", async () => {
    const shown = [false, false, true, true];
    let flushes = 0;
    const schedule = new FlushSchedule(() => shown[flushes++] ?? true);
    for (let token = 0; token < 4; token += 1) {
      schedule.request();
      await nextTurn();
    }
    // Nothing shown by the first two flushes (a leading space, half a character): the third
    // token flushed at once too; after that, the fourth waited for the interval.
    expect(flushes).toBe(3);
    await sleep(DELTA_INTERVAL_MS + 5);
    schedule.request();
    await nextTurn();
    expect(flushes).toBe(4);
  });
});
