// Ids for what Quanta makes (conversations, messages, downloads, lab runs, generation
// requests): random, URL- and file-name-safe. Runtime-neutral: the Web Crypto global that
// Node, Electron and browsers all have.

/** A random 32-character hex id (a UUID without its dashes). */
export function newId(): string {
  return globalThis.crypto.randomUUID().replaceAll("-", "");
}
