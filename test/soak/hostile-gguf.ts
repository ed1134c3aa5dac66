// Fault suite loop: damaged and hostile GGUF entries (test/fixtures/hostile-gguf.ts) in a
// model folder of a real core with a real engine. Per iteration (a fresh core and folder):
// every entry is listed with a clear reason, the inspector answers (the header or a clean
// error), loading and the fit estimate fail cleanly (refused by the core, or llama.cpp's own
// reason), the engine never crashes, and afterwards a sound model still loads and replies.
// `iterations`: how many times the whole catalogue is run.

import { promises as fs } from "node:fs";
import path from "node:path";
import type { CoreEvent } from "../../electron/contract/types.js";
import { HOSTILE_KINDS } from "../fixtures/hostile-gguf.js";
import { isDone, startCore } from "../support/core-harness.js";
import { STORIES_MODEL, tempDir } from "../support/paths.js";

interface Tally {
  entries: number;
  listedWithReason: number;
  inspectorAnswered: number;
  loadsFailedCleanly: number;
  engineCrashes: number;
  problems: string[];
}

async function settle<T>(promise: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; code: string; message: string }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    return { ok: false, code: String(code), message: String(message) };
  }
}

async function oneRound(tally: Tally): Promise<void> {
  const folder = await tempDir("hostile-gguf");
  const fileOf = new Map<string, string>();
  for (const kind of HOSTILE_KINDS) fileOf.set(kind.name, await kind.make(folder, STORIES_MODEL));
  await fs.copyFile(STORIES_MODEL, path.join(folder, "sound-stories.gguf"));
  const harness = await startCore([folder], { sampling: { maxTokens: 8 } });
  const crashed = (event: CoreEvent) =>
    event.type === "engine" && event.state.kind === "failed" && event.state.error.code === "engine_crashed";
  try {
    await harness.waitForEngine("idle");
    const listed = await harness.core.api.listModels();
    for (const kind of HOSTILE_KINDS) {
      tally.entries += 1;
      const problem = (what: string) => tally.problems.push(`${kind.name}: ${what}`);
      const entry = listed.find((model) => model.fileName === fileOf.get(kind.name));
      if (!entry) {
        problem("not listed");
        continue;
      }
      if (kind.stage === "listed") {
        if (entry.error?.code === "model_invalid" && kind.reason.test(entry.error.message)) tally.listedWithReason += 1;
        else problem(`listed with ${JSON.stringify(entry.error)}`);
      } else if (entry.error === null) {
        tally.listedWithReason += 1;
      } else {
        problem(`a sound header was refused: ${entry.error.message}`);
      }

      const inspected = await settle(harness.core.api.inspectModel({ modelId: entry.id }));
      if (inspected.ok === kind.inspectable && (inspected.ok || inspected.code === "model_invalid")) tally.inspectorAnswered += 1;
      else problem(`inspector: ${inspected.ok ? "answered" : `${inspected.code} ${inspected.message}`}`);

      const fit = await settle(harness.core.api.estimateFit({ modelId: entry.id, contextSize: 512 }));
      const loaded = await settle(harness.core.api.loadModel({ modelId: entry.id }));
      const expectedCode = kind.stage === "listed" ? "model_invalid" : "model_load_failed";
      if (!loaded.ok && loaded.code === expectedCode && kind.reason.test(loaded.message)) tally.loadsFailedCleanly += 1;
      else problem(`load: ${loaded.ok ? "loaded" : `${loaded.code} ${loaded.message}`}`);
      if (kind.stage === "listed" && (fit.ok || fit.code !== "model_invalid")) problem(`fit estimate: ${fit.ok ? "answered" : fit.code}`);
      if (kind.stage === "load" && !fit.ok && /BigInt/.test(fit.message)) problem(`fit estimate: ${fit.message}`);
      await harness.waitForEngine("idle", 30_000).catch(() => problem("the engine did not come back to idle"));
    }
    tally.engineCrashes += harness.events.filter(crashed).length;

    // The core and the engine still work: a sound model loads and replies.
    const sound = (await harness.core.api.listModels()).find((model) => model.fileName === "sound-stories.gguf");
    if (!sound) throw new Error("the sound model is not listed");
    await harness.core.api.loadModel({ modelId: sound.id });
    const chat = await harness.core.api.createChat();
    const done = harness.waitFor(isDone(chat.id), 60_000);
    await harness.core.api.sendMessage({ chatId: chat.id, text: "Once upon a time" });
    const { message } = await done;
    if (message.status !== "complete") tally.problems.push(`the sound model's reply ended ${message.status}`);
  } finally {
    await harness.close();
    await fs.rm(folder, { recursive: true, force: true });
  }
}

export default async function hostileGguf(options: {
  iterations: number;
}): Promise<{ name: string; figures: Record<string, number | string>; ok: boolean }> {
  const tally: Tally = { entries: 0, listedWithReason: 0, inspectorAnswered: 0, loadsFailedCleanly: 0, engineCrashes: 0, problems: [] };
  for (let round = 0; round < options.iterations; round += 1) await oneRound(tally);
  const ok = tally.problems.length === 0 && tally.engineCrashes === 0;
  return {
    name: "hostile GGUF files",
    figures: {
      kinds: HOSTILE_KINDS.length,
      entries: tally.entries,
      "listed with reason": tally.listedWithReason,
      "inspector answered": tally.inspectorAnswered,
      "loads failed cleanly": tally.loadsFailedCleanly,
      "engine crashes": tally.engineCrashes,
      ...(tally.problems.length > 0 ? { problems: tally.problems.slice(0, 5).join("; ") } : {}),
    },
    ok,
  };
}
