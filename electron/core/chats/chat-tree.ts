// A conversation as a tree of messages: editing a message or regenerating a reply adds a
// sibling (a new version) instead of replacing anything, so every earlier version stays
// reachable. The branch on show runs from the root to the selected leaf.

import type { ChatMessage } from "../../contract/types.js";

export class ChatTree {
  /** Every message of every branch, in the order first written. */
  private readonly byId = new Map<string, ChatMessage>();
  private lastId: string | null = null;
  leafId: string | null = null;

  get size(): number {
    return this.byId.size;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  find(id: string): ChatMessage | undefined {
    return this.byId.get(id);
  }

  all(): ChatMessage[] {
    return [...this.byId.values()];
  }

  /**
   * Adds a message, or replaces an earlier state of one (the last line for an id wins).
   * A message without parentId (format 1) follows the message written before it.
   */
  put(message: ChatMessage): void {
    const existing = this.byId.get(message.id);
    if (existing) {
      this.byId.set(message.id, { ...message, parentId: message.parentId === undefined ? existing.parentId : message.parentId });
      return;
    }
    const parentId = message.parentId === undefined ? this.lastId : message.parentId;
    this.byId.set(message.id, { ...message, parentId });
    this.lastId = message.id;
    this.leafId = message.id;
  }

  /** Shows the branch through this message, down its most recent children. */
  select(id: string): void {
    if (!this.byId.has(id)) return;
    let current = id;
    for (;;) {
      const next = this.children(current).at(-1);
      if (!next) break;
      current = next.id;
    }
    this.leafId = current;
  }

  /** This message and every message below it, on every branch (what deleting it removes). */
  descendants(id: string): string[] {
    if (!this.byId.has(id)) return [];
    const found = [id];
    for (let index = 0; index < found.length; index += 1) {
      for (const child of this.children(found[index] ?? null)) found.push(child.id);
    }
    return found;
  }

  /**
   * Removes these messages (a message with everything below it). A branch on show that ran
   * through them shows the latest remaining version in their place, or ends where they were.
   */
  remove(ids: readonly string[]): void {
    const gone = new Set(ids);
    const shown = this.path();
    const firstGone = shown.find((message) => gone.has(message.id));
    for (const id of gone) this.byId.delete(id);
    if (this.lastId !== null && gone.has(this.lastId)) this.lastId = this.all().at(-1)?.id ?? null;
    if (!firstGone) return;
    const parentId = firstGone.parentId ?? null;
    const sibling = this.children(parentId)
      .filter((other) => other.role === firstGone.role)
      .at(-1);
    if (sibling) this.select(sibling.id);
    else if (parentId !== null && this.byId.has(parentId)) this.leafId = parentId;
    else this.leafId = null;
  }

  children(parentId: string | null): ChatMessage[] {
    return this.all().filter((message) => (message.parentId ?? null) === parentId);
  }

  /** The versions of a message: the messages with the same parent and role, oldest first. */
  siblings(message: ChatMessage): ChatMessage[] {
    return this.children(message.parentId ?? null).filter((other) => other.role === message.role);
  }

  /** From the root to `leafId` (or the shown leaf), oldest first. */
  path(leafId: string | null = this.leafId): ChatMessage[] {
    const path: ChatMessage[] = [];
    const seen = new Set<string>();
    let current = leafId === null ? undefined : this.byId.get(leafId);
    while (current && !seen.has(current.id)) {
      seen.add(current.id);
      path.push(current);
      current = current.parentId ? this.byId.get(current.parentId) : undefined;
    }
    return path.reverse();
  }

  /** For each message on the branch shown that has other versions: all their ids. */
  versions(): Record<string, string[]> {
    const versions: Record<string, string[]> = {};
    for (const message of this.path()) {
      const siblings = this.siblings(message);
      if (siblings.length > 1) versions[message.id] = siblings.map((sibling) => sibling.id);
    }
    return versions;
  }
}
