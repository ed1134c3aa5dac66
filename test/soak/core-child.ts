// The core as the desktop app runs it, in a process of its own for core-kills.ts to SIGKILL:
// it loads stories260K and sends messages to one conversation as fast as it is allowed,
// stopping some replies at once (rapid sends), and prints what the UI is told is saved:
// "user <id>" once sendMessage answers, "reply <id> <length>" once a reply is done without error.
// Usage: node core-child.js <data folder> <models folder>

import path from "node:path";
import { QuantaError } from "../../electron/contract/errors.js";
import { createCore } from "../../electron/core/app-core.js";
import { forkEngine } from "../../electron/core/engine-client/engine-process.js";
import { ENGINE_ENTRY, STORIES_MODEL } from "../support/paths.js";
import { between, sleep } from "./soak-loop.js";

const [home, models] = process.argv.slice(2);
if (!home || !models) throw new Error("usage: core-child.js <data folder> <models folder>");
process.env.QUANTA_MODELS = models;
const say = (line: string) => process.stdout.write(`${line}\n`);

const core = await createCore({
  shell: "headless",
  home,
  version: "soak",
  spawnEngine: forkEngine(ENGINE_ENTRY),
  sampling: { maxTokens: 160 },
  checkpointMs: 150,
});
const ended = new Map<string, () => void>();
core.onEvent((event) => {
  if (event.type !== "generation.done") return;
  const { message } = event;
  if (message.error === null && (message.status === "complete" || message.status === "stopped"))
    say(`reply ${message.id} ${message.text.length}`);
  ended.get(message.id)?.();
});
const { api } = core;
for (let waited = 0; (await api.getEngineState()).kind !== "idle"; waited += 1) {
  if (waited > 1200) throw new Error("the engine did not start");
  await sleep(100);
}
const model = (await api.listModels()).find((candidate) => candidate.fileName === path.basename(STORIES_MODEL));
if (!model) throw new Error("stories260K is not in the library");
await api.loadModel({ modelId: model.id });
const chatId = (await api.listChats())[0]?.id ?? (await api.createChat()).id;
say(`chat ${chatId}`);
say("ready");
for (let count = 0; ; count += 1) {
  try {
    const sent = await api.sendMessage({ chatId, text: `message ${count} from ${process.pid}` });
    say(`user ${sent.userMessage.id}`);
    const done = new Promise<void>((resolve) => ended.set(sent.assistantMessageId, resolve));
    if (Math.random() < 0.3) await api.stopGeneration({ chatId }).catch(() => undefined);
    await done;
  } catch (error) {
    if (!(error instanceof QuantaError && error.code === "busy")) throw error;
    await sleep(between(1, 5));
  }
}
