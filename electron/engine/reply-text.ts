// Turns generated tokens into the reply's text in batches: detokenizes with the preceding
// tokens as context, holds back an incomplete UTF-8 character, and stops at the chat
// template's stop texts without ever showing a part of one.

import type { LlamaModel, Token } from "node-llama-cpp";

const CONTEXT_TOKENS = 8;
const REPLACEMENT_CHARACTER = "\uFFFD";

/** Length of the longest suffix of `text` that is a proper prefix of one of `stops`. */
export function partialStopLength(text: string, stops: readonly string[]): number {
  let longest = 0;
  for (const stop of stops) {
    for (let length = Math.min(stop.length - 1, text.length); length > longest; length -= 1) {
      if (text.endsWith(stop.slice(0, length))) {
        longest = length;
        break;
      }
    }
  }
  return longest;
}

/** Index of the earliest complete stop text at or after `from`, or -1. */
export function findStop(text: string, stops: readonly string[], from: number): number {
  return findStopText(text, stops, from)?.at ?? -1;
}

/** The earliest complete stop text at or after `from` (the longest where two start there), or null. */
export function findStopText(text: string, stops: readonly string[], from: number): { at: number; stop: string } | null {
  let first: { at: number; stop: string } | null = null;
  for (const stop of stops) {
    const at = text.indexOf(stop, from);
    if (at !== -1 && (first === null || at < first.at || (at === first.at && stop.length > first.stop.length))) first = { at, stop };
  }
  return first;
}

export class ReplyText {
  private pending: Token[] = [];
  private context: Token[] = [];
  private text = "";
  private emitted = 0;
  private readonly longestStop: number;
  /** The stop text that ended the reply, once one has. */
  matchedStop: string | null = null;

  constructor(
    private readonly model: LlamaModel,
    private readonly stops: readonly string[],
    private readonly onText: (text: string) => void,
    /** A raw completion keeps its leading space and decodes after the prompt's last tokens. */
    private readonly options: { trimStart?: boolean; context?: Token[] } = {},
  ) {
    this.longestStop = Math.max(0, ...stops.map((stop) => stop.length));
    if (options.context) this.context = options.context.slice(-CONTEXT_TOKENS);
  }

  push(token: Token): void {
    this.pending.push(token);
  }

  /** Emits what is safe to show. Returns true when a stop text was reached. */
  flush(final: boolean): boolean {
    if (this.pending.length > 0) {
      const piece = this.model.detokenize(this.pending, false, this.context);
      // A multi-byte character split across tokens decodes as U+FFFD until its last byte arrives.
      if (!final && piece.endsWith(REPLACEMENT_CHARACTER) && this.pending.length < 8) return false;
      this.context = [...this.context, ...this.pending].slice(-CONTEXT_TOKENS);
      this.pending = [];
      this.text += this.emitted === 0 && this.text === "" && this.options.trimStart !== false ? piece.trimStart() : piece;
    }
    const searchFrom = Math.max(0, this.emitted - this.longestStop);
    const found = findStopText(this.text, this.stops, searchFrom);
    if (found !== null) {
      this.matchedStop = found.stop;
      this.text = this.text.slice(0, found.at);
      this.emitUpTo(this.text.length);
      return true;
    }
    const visible = final ? this.text.length : this.text.length - partialStopLength(this.text, this.stops);
    this.emitUpTo(visible);
    return false;
  }

  get value(): string {
    return this.text.slice(0, this.emitted);
  }

  private emitUpTo(end: number): void {
    if (end > this.emitted) {
      this.onText(this.text.slice(this.emitted, end));
      this.emitted = end;
    }
  }
}
