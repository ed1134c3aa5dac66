// Loop: a core whose data folder is on a small disk (a real tmpfs) that fills up, while
// `iterations` messages are sent and new conversations are created. Passes when every failure
// is a clear storage error ("the disk is full"), and once space returns and the core starts
// again on the same folder, every message reported saved is there and no conversation
// appears that was not reported created (no empty one dated 1970). Skipped, saying why, where
// no tmpfs can be mounted (not root, not Linux).

import path from "node:path";
import { QuantaError } from "../../electron/contract/errors.js";
import type { ChatMessage } from "../../electron/contract/types.js";
import { fillDisk, mountSmallDisk } from "../support/small-disk.js";
import { replyEnd, storiesCore } from "./soak-core.js";
import type { SoakResult } from "./soak-loop.js";

const NAME = "data folder on a full disk";

export async function fullDisk({ iterations: sends }: { iterations: number }): Promise<SoakResult> {
  const disk = await mountSmallDisk(2 * 1024 * 1024);
  if ("skip" in disk) {
    console.log(`${NAME}: skipped (${disk.skip})`);
    return { name: NAME, figures: { skipped: disk.skip }, ok: true };
  }
  const home = path.join(disk.folder, "home");
  try {
    const saved = new Set<string>();
    const created = new Set<string>();
    let clear = 0;
    let unclear: string[] = [];
    let mixed = 0;
    let failedSends = 0;
    const note = (error: unknown) => {
      if (error instanceof QuantaError && error.code === "storage_failed" && /disk is full/.test(error.message)) clear += 1;
      else unclear.push(error instanceof Error ? error.message : String(error));
    };
    const first = await storiesCore({ home, sampling: { maxTokens: 48 } });
    try {
      const { api } = first.core;
      const chatId = (await api.createChat()).id;
      created.add(chatId);
      const record = (reply: ChatMessage) => {
        if (reply.error === null && reply.status !== "failed") saved.add(reply.id);
        else if (reply.error?.code === "storage_failed") {
          note(new QuantaError(reply.error.code, reply.error.message));
          // A reply that says "complete" and "not saved" at once is one status too many.
          if (reply.status !== "failed") mixed += 1;
        }
      };
      const sent = await api.sendMessage({ chatId, text: "Before the disk fills." });
      saved.add(sent.userMessage.id);
      record(await replyEnd(first, sent.assistantMessageId));

      // Leave a few kilobytes: some saves still fit, then one is cut short, then none fit.
      await fillDisk(disk.folder, 12 * 1024);
      for (let index = 0; index < sends; index += 1) {
        if (index % 4 === 3) {
          try {
            created.add((await api.createChat()).id);
          } catch (error) {
            note(error);
          }
        }
        try {
          const answer = await api.sendMessage({ chatId, text: `Message ${index} while the disk fills: ${"words ".repeat(150)}` });
          saved.add(answer.userMessage.id);
          record(await replyEnd(first, answer.assistantMessageId));
        } catch (error) {
          failedSends += 1;
          note(error);
        }
      }
    } finally {
      await first.close();
    }

    // Space returns; Quanta starts again on the same folder.
    disk.grow(64 * 1024 * 1024);
    const second = await storiesCore({ home });
    let lost = 0;
    let phantoms = 0;
    try {
      const { api } = second.core;
      const chats = await api.listChats();
      phantoms = chats.filter((chat) => !created.has(chat.id) || chat.updatedAt.startsWith("1970")).length;
      const present = new Set<string>();
      for (const chat of chats) for (const message of await api.listAllMessages({ chatId: chat.id })) present.add(message.id);
      lost = [...saved].filter((id) => !present.has(id)).length;
    } finally {
      await second.close();
    }
    unclear = [...new Set(unclear)];
    return {
      name: NAME,
      figures: {
        "messages sent on a full disk": sends,
        "reported saved": saved.size,
        "clear storage errors": clear,
        "sends refused": failedSends,
        "unclear errors": unclear.length === 0 ? 0 : unclear.join(" / ").slice(0, 200),
        "replies both complete and unsaved": mixed,
        lost,
        "phantom conversations": phantoms,
      },
      ok: lost === 0 && phantoms === 0 && unclear.length === 0 && clear > 0,
    };
  } finally {
    await disk.remove();
  }
}
