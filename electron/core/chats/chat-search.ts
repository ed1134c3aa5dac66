// Finding a query in a message and the snippet the sidebar shows for it: the matched words
// whole, with context on both sides, cut at a word's edge in spaced scripts and at a
// character's edge (never inside an emoji or a surrogate pair) in CJK. Pure: the store calls it.

import type { ChatSearchMatch } from "../../contract/types.js";

/**
 * About how wide the context each side of the match is, in columns: a CJK character counts
 * two (it is drawn about twice as wide), so a snippet takes about the same room in any script.
 */
export const SNIPPET_CONTEXT_COLUMNS = 32;
/** A cut looks this many characters on for a space before cutting inside a word. */
const WORD_SLACK = 12;

/** The query as a case-insensitive pattern on the original text (indices stay the text's own). */
export function queryPattern(query: string): RegExp | null {
  const needle = query.trim();
  if (needle === "") return null;
  return new RegExp(needle.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\s+/g, "\\s+"), "iu");
}

const isSpace = (char: string | undefined) => char !== undefined && /\s/u.test(char);
const isWordChar = (char: string | undefined) => char !== undefined && /[\p{L}\p{N}]/u.test(char) && !isCjk(char);

function isCjk(char: string | undefined): boolean {
  // Below Hangul's jamo nothing is drawn wide: skip the script lookup for most text.
  if (char === undefined || char.charCodeAt(0) < 0x1100) return false;
  return /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3000-\u303f\uff00-\uffef]/u.test(char);
}

const columns = (char: string) => (isCjk(char) ? 2 : 1);

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
/**
 * What may join code units into one character a reader sees: characters beyond the basic plane
 * (a surrogate pair: emoji and their sequences), combining marks (variation selectors among
 * them), ZWJ, conjoining Hangul jamo, CR LF. Text around a match without any of them
 * (most Latin and CJK text) is cut by code unit, which is much cheaper than segmenting it.
 */
const JOINING = /[\u{10000}-\u{10FFFF}\uD800-\uDFFF\u1100-\u11FF\uA960-\uA97F\uD7B0-\uD7FF\r]|\u200d|\p{M}/u;

/** The characters' boundaries around [index, end): by code unit, or by grapheme where some may join. */
interface Boundaries {
  /** The boundary before `position` (position > 0). */
  before(position: number): number;
  /** The boundary after `position` (position < text.length). */
  after(position: number): number;
}

function boundaries(text: string, index: number, end: number, width: number): Boundaries {
  const window = text.slice(Math.max(0, index - 2 * width - 1), end + 2 * width + 1);
  if (!JOINING.test(window)) return { before: (position) => position - 1, after: (position) => position + 1 };
  const parts = segmenter.segment(text);
  return {
    before: (position) => parts.containing(position - 1)?.index ?? position - 1,
    after: (position) => {
      const part = parts.containing(position);
      return part ? part.index + part.segment.length : position + 1;
    },
  };
}

/** Where the context before the match starts: about `width` columns back, after a space if one is near. */
function contextStart(text: string, index: number, width: number, cut: Boundaries): number {
  // Whole characters as a reader sees them (a surrogate pair, an emoji sequence).
  let start = index;
  let used = 0;
  while (start > 0) {
    const from = cut.before(start);
    const cost = columns(text.slice(from, start));
    if (used + cost > width) break;
    used += cost;
    start = from;
  }
  if (start === 0) return 0;
  // Inside a word of a spaced script: start after the next space (if it is close), not mid-word.
  if (isWordChar(text[start]) && !isSpace(text[start - 1])) {
    for (let at = start; at < Math.min(index, start + WORD_SLACK); at += 1) {
      if (isSpace(text[at])) return at + 1;
    }
  }
  return start;
}

/** Where the context after the match ends: about `width` columns on, before a space if one is near. */
function contextEnd(text: string, end: number, width: number, cut: Boundaries): number {
  let stop = end;
  let used = 0;
  while (stop < text.length) {
    const to = cut.after(stop);
    const cost = columns(text.slice(stop, to));
    if (used + cost > width) break;
    used += cost;
    stop = to;
  }
  if (stop >= text.length) return text.length;
  if (isWordChar(text[stop - 1]) && !isSpace(text[stop])) {
    for (let at = stop; at > Math.max(end, stop - WORD_SLACK); at -= 1) {
      if (isSpace(text[at - 1])) return at - 1;
    }
  }
  return stop;
}

const oneLine = (text: string) => text.replace(/\s+/g, " ");

/**
 * The first match of `pattern` in `text`, as the parts the sidebar shows: `before` and `after`
 * hold the context (with "…" where text was left out), `text` the match as written. Null when
 * the text does not contain it.
 */
export function findInText(text: string, pattern: RegExp, messageId: string): ChatSearchMatch | null {
  const found = pattern.exec(text);
  if (!found) return null;
  const index = found.index;
  const end = index + found[0].length;
  const cut = boundaries(text, index, end, SNIPPET_CONTEXT_COLUMNS);
  const start = contextStart(text, index, SNIPPET_CONTEXT_COLUMNS, cut);
  const stop = contextEnd(text, end, SNIPPET_CONTEXT_COLUMNS, cut);
  const before = oneLine(text.slice(start, index)).trimStart();
  const after = oneLine(text.slice(end, stop)).trimEnd();
  return {
    messageId,
    before: `${start > 0 ? "…" : ""}${before}`,
    text: oneLine(found[0]),
    after: `${after}${stop < text.length ? "…" : ""}`,
  };
}

/** The snippet as one line of plain text (before, match, after). */
export function snippetText(match: ChatSearchMatch): string {
  return `${match.before}${match.text}${match.after}`;
}
