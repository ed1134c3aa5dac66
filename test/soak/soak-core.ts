// A core with a real engine and stories260K loaded, for the loops that chat; and how a loop
// reads a conversation back from disk, as the next start of Quanta would.

import path from "node:path";
import type { ChatMessage, CoreEvent } from "../../electron/contract/types.js";
import { ChatStore } from "../../electron/core/chats/chat-store.js";
import { startCore, type CoreHarness } from "../support/core-harness.js";
import { STORIES_MODEL } from "../support/paths.js";

export async function storiesCore(options: Parameters<typeof startCore>[1] = {}): Promise<CoreHarness> {
  const harness = await startCore([path.dirname(STORIES_MODEL)], options);
  try {
    await harness.waitForEngine("idle", 90_000);
    const model = (await harness.core.api.listModels()).find((candidate) => candidate.fileName === path.basename(STORIES_MODEL));
    if (!model) throw new Error(`${STORIES_MODEL} is not in the library`);
    await harness.core.api.loadModel({ modelId: model.id });
    return harness;
  } catch (error) {
    await harness.close();
    throw error;
  }
}

/** The end of one reply (by its message id), from the events so far or the next ones. */
export async function replyEnd(harness: CoreHarness, messageId: string, timeoutMs = 120_000): Promise<ChatMessage> {
  const isIt = (event: CoreEvent): event is Extract<CoreEvent, { type: "generation.done" }> =>
    event.type === "generation.done" && event.message.id === messageId;
  const seen = harness.events.find(isIt);
  if (seen?.type === "generation.done") return seen.message;
  return (await harness.waitFor(isIt, timeoutMs)).message;
}

/** Every message of a conversation as a fresh ChatStore reads it from the data folder. */
export async function messagesOnDisk(home: string, chatId: string): Promise<{ all: ChatMessage[]; shown: ChatMessage[] }> {
  const store = new ChatStore(path.join(home, "chats"), () => undefined);
  await store.load();
  return { all: store.allMessages(chatId), shown: store.get(chatId).messages };
}

/** Parents with more than one child: a conversation that forked where nobody asked for a new version. */
export function forks(messages: readonly ChatMessage[]): number {
  const children = new Map<string, number>();
  for (const message of messages) {
    const parent = message.parentId ?? "(root)";
    children.set(parent, (children.get(parent) ?? 0) + 1);
  }
  return [...children.values()].filter((count) => count > 1).length;
}
