// The last few tokens of a sequence, kept as they are added: what the repeat penalty looks
// at on every token. node-llama-cpp's `contextTokens` copies the whole context on each read,
// which made a long conversation's reply slower with every token it added.

import type { Token } from "node-llama-cpp";

export class RecentTokens {
  private readonly ring: Token[];
  private next = 0;
  private size = 0;

  constructor(
    readonly capacity: number,
    initial: readonly Token[] = [],
  ) {
    this.ring = new Array<Token>(capacity);
    for (const token of initial.slice(-capacity)) this.push(token);
  }

  push(token: Token): void {
    this.ring[this.next] = token;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size += 1;
  }

  /** The kept tokens, oldest first (what `tokens.slice(-capacity)` would give). */
  toArray(): Token[] {
    const out = new Array<Token>(this.size);
    const start = (this.next - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size; i++) out[i] = this.ring[(start + i) % this.capacity] as Token;
    return out;
  }
}
