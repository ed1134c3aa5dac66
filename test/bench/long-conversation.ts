// `npm run bench`: a conversation that outgrows its window, through the core and engine as the
// chat runs them (the synthetic 134M Q4_K_M model, window 1,024, 96-token greedy replies, one
// thread). Each reply's turns left out and time to first token. A reply that keeps the last
// reply's cut reuses the cached prompt: its time to first token ÷ that of a reply before the
// window filled (same run) should be about 1; a reply that makes a new cut evaluates half the
// window. docs/PERFORMANCE.md ("Long conversations") has the figures and the policy before.

import path from "node:path";
import { isDone, startCore } from "../support/core-harness.js";
import { syntheticQ4 } from "./synthetic-model.js";

const REPLIES = 16;
const WINDOW = 1024;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? NaN : sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const file = await syntheticQ4();
const harness = await startCore([path.dirname(file)], { sampling: { maxTokens: 96, seed: 3, temperature: 0 } });
try {
  await harness.waitForEngine("idle");
  const model = (await harness.core.api.listModels()).find((entry) => entry.fileName === path.basename(file));
  if (!model) throw new Error(`${file} is not in the library`);
  await harness.core.api.loadModel({ modelId: model.id, contextSize: WINDOW, threads: 1 });
  const chatId = (await harness.core.api.createChat()).id;
  const rows: Array<{ cut: number; ttft: number; stop: string }> = [];
  for (let turn = 0; turn < REPLIES; turn += 1) {
    const done = harness.waitFor(isDone(chatId), 300_000);
    await harness.core.api.sendMessage({ chatId, text: `Part ${turn}: tell me what happened next in the story.` });
    const { message } = await done;
    rows.push({
      cut: message.provenance?.droppedMessages ?? 0,
      ttft: message.stats?.timeToFirstTokenMs ?? NaN,
      stop: message.stats?.stopReason ?? "?",
    });
  }
  console.log(`\nLong conversation: ${REPLIES} replies of 96 tokens, window ${WINDOW}, ${path.basename(file)}, 1 thread`);
  console.log("| reply | turns left out | time to first token ms | stop |\n|---|---|---|---|");
  rows.forEach((row, index) => console.log(`| ${index + 1} | ${row.cut} | ${row.ttft.toFixed(1)} | ${row.stop} |`));
  // Reply 1 evaluates the whole prompt from nothing; the others before the first cut add one turn each.
  const before = rows
    .slice(1)
    .filter((row) => row.cut === 0)
    .map((row) => row.ttft);
  const kept = rows.filter((row, index) => row.cut > 0 && row.cut === rows[index - 1]?.cut).map((row) => row.ttft);
  const cuts = rows.filter((row, index) => row.cut > 0 && row.cut !== rows[index - 1]?.cut).map((row) => row.ttft);
  const base = median(before);
  console.log(
    `\nmedian time to first token: before the window filled ${base.toFixed(1)} ms; keeping the cut ${median(kept).toFixed(1)} ms (÷ before: ${(median(kept) / base).toFixed(2)}); a new cut ${median(cuts).toFixed(1)} ms (÷ before: ${(median(cuts) / base).toFixed(2)}); replies stopped at "context full": ${rows.filter((row) => row.stop === "context_full").length}`,
  );
} finally {
  await harness.close();
}
