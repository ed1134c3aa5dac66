// Turns generated tokens into the reply's text in batches: detokenizes with the preceding
// tokens as context, holds back an incomplete UTF-8 character, and stops at the chat
// template's stop texts without ever showing a part of one. FlushSchedule paces it: the first
// text at once, the rest about once per DELTA_INTERVAL_MS, never on a token's critical path.

import type { LlamaModel, Token } from "node-llama-cpp";

const CONTEXT_TOKENS = 8;
const REPLACEMENT_CHARACTER = "\uFFFD";

/** Text reaches the core about once per animation frame, never once per token. */
export const DELTA_INTERVAL_MS = 16;

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

/**
 * When a reply's text goes out: the first flush at once, then at most one per
 * DELTA_INTERVAL_MS, each in a setImmediate. The generation loop asks node-llama-cpp for the
 * next token before that runs, so detokenizing and sending overlap the next token's decode
 * instead of delaying it.
 */
export class FlushSchedule {
  private scheduled: NodeJS.Immediate | null = null;
  private lastAt = Number.NEGATIVE_INFINITY;

  /** `flush` returns whether any text has gone out yet: until it has, every request may flush. */
  constructor(private readonly flush: () => boolean) {}

  /** Called after each token: schedules a flush when one is due. */
  request(): void {
    if (this.scheduled !== null) return;
    const now = performance.now();
    if (now - this.lastAt < DELTA_INTERVAL_MS) return;
    this.lastAt = now;
    this.scheduled = setImmediate(() => {
      this.scheduled = null;
      if (!this.flush()) this.lastAt = Number.NEGATIVE_INFINITY;
    });
  }

  cancel(): void {
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
  }
}

export class ReplyText {
  private pending: Token[] = [];
  private context: Token[] = [];
  private text = "";
  private emitted = 0;
  private readonly longestStop: number;
  /** The stop text that ended the reply, once one has. */
  matchedStop: string | null = null;
  private readonly schedule = new FlushSchedule(() => {
    this.flush(false);
    // Until the reply shows a character (a leading space, half of one), it may flush at every token.
    return this.emitted > 0;
  });

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

  /** True once a stop text has ended the reply: the generation loop ends at its next token. */
  get stopped(): boolean {
    return this.matchedStop !== null;
  }

  /** Adds a generated token; its text goes out when due (see FlushSchedule). */
  push(token: Token): void {
    this.pending.push(token);
    if (!this.stopped) this.schedule.request();
  }

  /** Ends the reply: drops a scheduled flush and emits all that is left. Returns true when a stop text ended it. */
  finish(): boolean {
    this.cancel();
    this.flush(true);
    return this.stopped;
  }

  /** Drops a scheduled flush (the reply failed: nothing more is sent). */
  cancel(): void {
    this.schedule.cancel();
  }

  /** Emits what is safe to show. Returns true when a stop text was reached. */
  private flush(final: boolean): boolean {
    // Tokens after a stop text are never shown.
    if (this.stopped) return true;
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
