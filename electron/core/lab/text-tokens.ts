// An evaluation text's length in tokens, by the real tokenizer of the reference model (the
// lab engine's labCountTokens: the vocabulary alone, tokenized as the evaluation does), and
// the refusal of a text too short for the context, before a comparison starts. Counts are
// remembered per (model file, text) so the Lab's form and the run's start count once.

import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import path from "node:path";
import { QuantaError } from "../../contract/errors.js";
import { evalTextLongEnough, evalTokensNeeded } from "../../common/eval-windows.js";
import { modelFileKey } from "../engine-client/thread-memory.js";
import type { LabEngine } from "./lab-engine.js";

/** Counts kept; each is a few dozen bytes. */
const REMEMBERED = 64;

export class TextTokenCounts {
  private readonly counts = new Map<string, number>();

  /** The count remembered for this file and text, else counted now in `engine` (started by `startEngine` when needed, then stopped). */
  async count(file: string, text: string, engine: LabEngine | (() => Promise<LabEngine>)): Promise<number> {
    const stat = statSync(file);
    const key = `${modelFileKey(stat.size, stat.mtimeMs, path.basename(file))}:${createHash("sha256").update(text).digest("hex")}`;
    const known = this.counts.get(key);
    if (known !== undefined) {
      // Most recently used last, so the oldest goes first.
      this.counts.delete(key);
      this.counts.set(key, known);
      return known;
    }
    const owned = typeof engine === "function" ? await engine() : null;
    try {
      const { tokens } = await (owned ?? (engine as LabEngine)).api.labCountTokens({ path: file, text });
      this.counts.set(key, tokens);
      while (this.counts.size > REMEMBERED) this.counts.delete(this.counts.keys().next().value as string);
      return tokens;
    } finally {
      owned?.stop();
    }
  }
}

/** Throws invalid_request (reason "text_too_short", with both figures) when `tokens` do not fill one window of `contextSize`. */
export function refuseShortText(tokens: number, contextSize: number): void {
  if (evalTextLongEnough(tokens, contextSize)) return;
  const needed = evalTokensNeeded(contextSize);
  throw new QuantaError(
    "invalid_request",
    `The evaluation text is ${tokens} tokens long for this model; a context of ${contextSize} needs at least ${needed}. Use a longer text or a smaller context.`,
    { reason: "text_too_short", neededTokens: needed, textTokens: tokens, contextSize },
  );
}
