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
  return (
    char !== undefined && /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3000-\u303f\uff00-\uffef]/u.test(char)
  );
}

const columns = (char: string) => (isCjk(char) ? 2 : 1);

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** Where the context before the match starts: about `width` columns back, after a space if one is near. */
function contextStart(text: string, index: number, width: number): number {
  // Whole characters as a reader sees them (a surrogate pair, an emoji sequence).
  const parts = segmenter.segment(text);
  let start = index;
  let used = 0;
  while (start > 0) {
    const part = parts.containing(start - 1);
    if (!part || used + columns(part.segment) > width) break;
    used += columns(part.segment);
    start = part.index;
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
function contextEnd(text: string, end: number, width: number): number {
  const parts = segmenter.segment(text);
  let stop = end;
  let used = 0;
  while (stop < text.length) {
    const part = parts.containing(stop);
    if (!part || used + columns(part.segment) > width) break;
    used += columns(part.segment);
    stop = part.index + part.segment.length;
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
  const start = contextStart(text, index, SNIPPET_CONTEXT_COLUMNS);
  const stop = contextEnd(text, end, SNIPPET_CONTEXT_COLUMNS);
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
