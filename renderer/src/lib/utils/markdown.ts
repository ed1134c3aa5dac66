// Model output as Markdown, made safe: marked parses the text into tokens, and this turns
// them into a small tree of our own that components render as DOM nodes. Nothing is ever
// handed to innerHTML: raw HTML in a reply shows as text, images as their alt text (no
// remote fetches), and only https links stay links (opened through the core).

import { Lexer, type Token, type Tokens } from "marked";
import { httpsLinkOrNull } from "../api/contract.js";

export type MdInline =
  | { kind: "text"; text: string }
  | { kind: "strong" | "em" | "del"; children: MdInline[] }
  | { kind: "code"; text: string }
  /** href is null when the link was not https: its text is shown, not followed. */
  | { kind: "link"; href: string | null; children: MdInline[] }
  | { kind: "br" };

export type MdAlign = "left" | "right" | "center" | null;

export type MdBlock =
  | { kind: "paragraph"; children: MdInline[] }
  | { kind: "heading"; level: 1 | 2 | 3 | 4 | 5 | 6; children: MdInline[] }
  | { kind: "code"; lang: string; text: string }
  | { kind: "list"; ordered: boolean; start: number; items: MdBlock[][] }
  | { kind: "table"; align: MdAlign[]; header: MdInline[][]; rows: MdInline[][][] }
  | { kind: "blockquote"; children: MdBlock[] }
  | { kind: "hr" };

const ENTITIES: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity] ?? entity);
}

function inlines(tokens: readonly Token[] | undefined): MdInline[] {
  const out: MdInline[] = [];
  for (const token of tokens ?? []) {
    const t = token as Tokens.Generic;
    switch (t.type) {
      case "text":
      case "escape":
        if (t.tokens && t.tokens.length > 0) out.push(...inlines(t.tokens));
        else out.push({ kind: "text", text: decodeEntities(String(t.text ?? "")) });
        break;
      case "html":
        // Shown as typed: a reply's <script> or <img onerror> is text, not markup.
        out.push({ kind: "text", text: String(t.text ?? t.raw) });
        break;
      case "strong":
      case "em":
      case "del":
        out.push({ kind: t.type, children: inlines(t.tokens) });
        break;
      case "codespan":
        // Code is shown as typed: `&lt;div&gt;` is those nine characters (marked leaves them as is).
        out.push({ kind: "code", text: String(t.text ?? "") });
        break;
      case "br":
        out.push({ kind: "br" });
        break;
      case "link":
        out.push({ kind: "link", href: httpsLinkOrNull(String(t.href ?? "")), children: inlines(t.tokens) });
        break;
      case "image":
        // No remote images: the alt text stands in.
        out.push({ kind: "text", text: `[${String(t.text ?? "")}]` });
        break;
      default:
        out.push({ kind: "text", text: t.raw });
    }
  }
  return out;
}

function blocks(tokens: readonly Token[]): MdBlock[] {
  const out: MdBlock[] = [];
  for (const token of tokens) {
    const t = token as Tokens.Generic;
    switch (t.type) {
      case "space":
        break;
      case "paragraph":
      case "text":
        out.push({
          kind: "paragraph",
          children: t.tokens ? inlines(t.tokens) : [{ kind: "text", text: decodeEntities(String(t.text ?? "")) }],
        });
        break;
      case "heading":
        out.push({
          kind: "heading",
          level: Math.min(6, Math.max(1, Number(t.depth) || 1)) as 1 | 2 | 3 | 4 | 5 | 6,
          children: inlines(t.tokens),
        });
        break;
      case "code":
        out.push({ kind: "code", lang: String(t.lang ?? "").split(/\s/)[0] ?? "", text: String(t.text ?? "") });
        break;
      case "list": {
        const list = token as Tokens.List;
        out.push({
          kind: "list",
          ordered: list.ordered,
          start: typeof list.start === "number" ? list.start : 1,
          items: list.items.map((item) => blocks(item.tokens)),
        });
        break;
      }
      case "table": {
        const table = token as Tokens.Table;
        out.push({
          kind: "table",
          align: table.align.map((align) => align ?? null),
          header: table.header.map((cell) => inlines(cell.tokens)),
          rows: table.rows.map((row) => row.map((cell) => inlines(cell.tokens))),
        });
        break;
      }
      case "blockquote":
        out.push({ kind: "blockquote", children: blocks(t.tokens ?? []) });
        break;
      case "hr":
        out.push({ kind: "hr" });
        break;
      case "html":
        out.push({ kind: "paragraph", children: [{ kind: "text", text: String(t.text ?? t.raw) }] });
        break;
      default:
        out.push({ kind: "paragraph", children: [{ kind: "text", text: t.raw }] });
    }
  }
  return out;
}

const LEX_OPTIONS = { gfm: true, breaks: false } as const;

export function parseMarkdown(text: string): MdBlock[] {
  return blocks(Lexer.lex(text, LEX_OPTIONS));
}

/** A link reference definition ("[id]: url") changes links anywhere in the text, earlier ones too. */
const REFERENCE_DEFINITION = /^ {0,3}\[[^\]]+\]:/m;

/**
 * A reply's Markdown while it streams in. Top-level blocks before the last one cannot change
 * as text is appended (a blank line or a new block has closed them), so they are lexed once
 * and kept, with the same objects, and only the open tail is lexed again on each update: the
 * work per update follows the tail's length, not the reply's. The result always equals
 * parseMarkdown(text) (test: markdown-stream.test.ts). Text that is not an extension of the
 * last (an edit, another reply) starts over.
 */
export class StreamingMarkdown {
  /** The text whose blocks are final, and those blocks. */
  private doneText = "";
  private doneBlocks: MdBlock[] = [];

  update(text: string): MdBlock[] {
    if (!text.startsWith(this.doneText) || REFERENCE_DEFINITION.test(text) || text.includes("\r")) {
      // Reference definitions and carriage returns (which marked rewrites) need the whole text.
      this.doneText = "";
      this.doneBlocks = [];
      if (REFERENCE_DEFINITION.test(text) || text.includes("\r")) return parseMarkdown(text);
    }
    const tail = text.slice(this.doneText.length);
    const tokens = Lexer.lex(tail, LEX_OPTIONS);
    // The last block that is not blank space may still grow or change kind; the ones before it may not.
    let open = tokens.length - 1;
    while (open > 0 && tokens[open]?.type === "space") open -= 1;
    if (open > 0) {
      const finished = tokens.slice(0, open);
      const finishedText = finished.map((token) => token.raw).join("");
      if (tail.startsWith(finishedText)) {
        this.doneText += finishedText;
        this.doneBlocks = [...this.doneBlocks, ...blocks(finished)];
        return [...this.doneBlocks, ...blocks(tokens.slice(open))];
      }
    }
    return [...this.doneBlocks, ...blocks(tokens)];
  }
}
