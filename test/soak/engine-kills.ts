// Loop: the engine process is SIGKILLed at a random point of each of `iterations` replies
// (during the prompt, the first tokens, or well into the reply). Passes when the core stays
// up, every reply cut short is saved as failed with its text so far, the engine and model
// come back, the next message gets a whole reply, and no earlier message is lost.

import { messagesOnDisk, replyEnd, storiesCore } from "./soak-core.js";
import { between, sleep, type SoakResult } from "./soak-loop.js";

export async function engineKills({ iterations: replies }: { iterations: number }): Promise<SoakResult> {
  // Long replies, so that most kills land inside one.
  const harness = await storiesCore({ sampling: { maxTokens: 400 }, checkpointMs: 250 });
  try {
    const { api } = harness.core;
    const chatId = (await api.createChat()).id;
    const userIds: string[] = [];
    let cut = 0;
    let savedFailed = 0;
    let finishedFirst = 0;
    let coreDown = 0;
    for (let index = 0; index < replies; index += 1) {
      await harness.waitForEngine("ready", 120_000);
      const sent = await api.sendMessage({ chatId, text: `Tell me story number ${index}.` });
      userIds.push(sent.userMessage.id);
      await sleep(between(0, 600));
      const pid = harness.core.engine.pid;
      if (pid !== undefined) process.kill(pid, "SIGKILL");
      const end = await replyEnd(harness, sent.assistantMessageId);
      // The core answers, as ever.
      await api.getAppInfo().catch(() => (coreDown += 1));
      const saved = (await api.getChat({ chatId })).messages.find((message) => message.id === end.id);
      if (end.status === "failed") {
        cut += 1;
        if (saved?.status === "failed" && saved.error?.code === "engine_crashed" && saved.text === end.text) savedFailed += 1;
      } else {
        finishedFirst += 1;
      }
    }
    await harness.waitForEngine("ready", 120_000);
    const last = await api.sendMessage({ chatId, text: "Are you back?" });
    const lastEnd = await replyEnd(harness, last.assistantMessageId);
    const nextOk = lastEnd.status === "complete" && lastEnd.error === null && lastEnd.text.length > 0;

    const { all } = await messagesOnDisk(harness.home, chatId);
    const onDisk = new Set(all.map((message) => message.id));
    const lost = userIds.filter((id) => !onDisk.has(id)).length;
    return {
      name: "engine killed mid-reply",
      figures: {
        replies,
        "cut short": cut,
        "saved as failed": savedFailed,
        "finished before the kill": finishedFirst,
        "core down": coreDown,
        "next message": nextOk ? "whole reply" : `${lastEnd.status} ${lastEnd.error?.code ?? ""}`.trim(),
        lost,
      },
      ok: savedFailed === cut && coreDown === 0 && nextOk && lost === 0,
    };
  } finally {
    await harness.close();
  }
}
