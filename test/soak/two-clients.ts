// Loop: two clients send to one conversation for `iterations` seconds, each retrying at
// once when the core answers "busy" (as two windows, or a window and a script, would).
// Passes when the conversation never forks (every message has at most one child: no reply
// hidden on a branch the UI cannot reach) and every send the core accepted, and every reply
// it reported done, is on the branch shown and on disk.

import type { ChatMessage } from "../../electron/contract/types.js";
import { QuantaError } from "../../electron/contract/errors.js";
import { forks, messagesOnDisk, replyEnd, storiesCore } from "./soak-core.js";
import { between, sleep, type SoakResult } from "./soak-loop.js";

export async function twoClients({ iterations: seconds }: { iterations: number }): Promise<SoakResult> {
  const harness = await storiesCore({ sampling: { maxTokens: 24 } });
  try {
    const { api } = harness.core;
    const chatId = (await api.createChat()).id;
    const deadline = performance.now() + seconds * 1000;
    const accepted: string[] = [];
    const replies: ChatMessage[] = [];
    let busy = 0;
    let otherErrors = 0;

    async function client(name: string): Promise<void> {
      for (let count = 0; performance.now() < deadline; count += 1) {
        try {
          const sent = await api.sendMessage({ chatId, text: `${name} says hello #${count}` });
          accepted.push(sent.userMessage.id);
          replies.push(await replyEnd(harness, sent.assistantMessageId));
        } catch (error) {
          if (error instanceof QuantaError && error.code === "busy") busy += 1;
          else otherErrors += 1;
          await sleep(between(0, 3));
        }
      }
    }
    await Promise.all([client("A"), client("B")]);

    const { all, shown } = await messagesOnDisk(harness.home, chatId);
    const shownIds = new Set(shown.map((message) => message.id));
    const lost = accepted.filter((id) => !shownIds.has(id)).length + replies.filter((reply) => !shownIds.has(reply.id)).length;
    const forked = forks(all);
    return {
      name: "two clients, one conversation",
      figures: {
        seconds,
        "sends accepted": accepted.length,
        "busy answers": busy,
        replies: replies.length,
        forks: forked,
        lost,
        "other errors": otherErrors,
      },
      ok: forked === 0 && lost === 0 && otherErrors === 0 && accepted.length > 0,
    };
  } finally {
    await harness.close();
  }
}
