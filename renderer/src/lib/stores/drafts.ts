// Messages being written, one per conversation, kept in the page's storage as they are typed
// (in the desktop app that storage is inside Quanta's data folder): a reload, a crash or a look
// at another conversation loses nothing typed. Written a moment after the last keystroke and at
// once when the page goes away; only the conversations this tab typed in are written, so two
// tabs typing in different conversations keep both. At most MAX_DRAFTS conversations keep one
// (the least recently typed go first).

const DRAFTS_KEY = "quanta.drafts";
const MAX_DRAFTS = 50;
const WRITE_DELAY_MS = 300;

/** What storage holds, with anything that is not a conversation's text left out. */
function readStored(): Map<string, string> {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(DRAFTS_KEY) ?? "{}");
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return new Map();
    return new Map(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === "string" && entry[1] !== ""));
  } catch {
    // Unreadable or unavailable storage (privacy settings): drafts then last as long as the page.
    return new Map();
  }
}

class Drafts {
  /** What this tab typed since it last wrote, by conversation ("" : cleared). */
  #typed = new Map<string, string>();
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor() {
    if (typeof addEventListener === "function") addEventListener("pagehide", () => this.flush());
  }

  get(chatId: string): string {
    return this.#typed.get(chatId) ?? readStored().get(chatId) ?? "";
  }

  set(chatId: string, text: string): void {
    this.#typed.set(chatId, text);
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.flush(), WRITE_DELAY_MS);
  }

  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#typed.size === 0) return;
    const drafts = readStored();
    for (const [chatId, text] of this.#typed) {
      // Re-inserted: the most recently typed are last, and the oldest go first past the limit.
      drafts.delete(chatId);
      if (text !== "") drafts.set(chatId, text);
    }
    for (const chatId of [...drafts.keys()].slice(0, Math.max(0, drafts.size - MAX_DRAFTS))) drafts.delete(chatId);
    try {
      localStorage.setItem(DRAFTS_KEY, JSON.stringify(Object.fromEntries(drafts)));
      this.#typed.clear();
    } catch {
      // Full or unavailable: kept in this tab, and tried again at the next keystroke.
    }
  }
}

export const drafts = new Drafts();
