import { describe, expect, it } from "vitest";
import type { Chat } from "../api/index.js";
import { chatToJson, chatToMarkdown, exportFileName } from "./chat-export.js";
import { highlight } from "./highlight.js";
import { parseMarkdown, type MdBlock, type MdInline } from "./markdown.js";

function inlineText(nodes: MdInline[]): string {
  return nodes
    .map((node) => {
      switch (node.kind) {
        case "text":
        case "code":
          return node.text;
        case "br":
          return "\n";
        default:
          return inlineText(node.children);
      }
    })
    .join("");
}

describe("markdown from model output", () => {
  it("parses headings, lists, tables, code and emphasis into our own tree", () => {
    const blocks = parseMarkdown(
      "## Plan\n\n1. **one**\n2. *two* `x<y`\n\n| a | b |\n|:-|-:|\n| 1 | 2 |\n\n```ts\nconst a = 1;\n```\n\n> quoted\n\n---",
    );
    expect(blocks.map((block) => block.kind)).toEqual(["heading", "list", "table", "code", "blockquote", "hr"]);
    const list = blocks[1] as Extract<MdBlock, { kind: "list" }>;
    expect(list.ordered).toBe(true);
    expect(list.items).toHaveLength(2);
    const table = blocks[2] as Extract<MdBlock, { kind: "table" }>;
    expect(table.align).toEqual(["left", "right"]);
    expect(table.rows[0]?.map(inlineText)).toEqual(["1", "2"]);
    expect(blocks[3]).toEqual({ kind: "code", lang: "ts", text: "const a = 1;" });
  });

  it("keeps raw HTML as text, drops images to their alt text, and keeps only https links", () => {
    const blocks = parseMarkdown(
      '<script>alert(1)</script>\n\nHi <img src=x onerror="alert(1)"> ![cat](https://evil.example/cat.png) ' +
        "[ok](https://example.org) [no](javascript:alert(1)) [plain](http://example.org) a &amp; b",
    );
    expect(blocks[0]).toEqual({ kind: "paragraph", children: [{ kind: "text", text: "<script>alert(1)</script>" }] });
    const paragraph = blocks[1] as Extract<MdBlock, { kind: "paragraph" }>;
    const links = paragraph.children.filter((node) => node.kind === "link");
    expect(links.map((link) => link.href)).toEqual(["https://example.org/", null, null]);
    const text = inlineText(paragraph.children);
    expect(text).toContain('<img src=x onerror="alert(1)">');
    expect(text).toContain("[cat]");
    expect(text).not.toContain("cat.png");
    expect(text).toContain("a & b");
  });

  it("highlights keywords, strings, comments and numbers, and loses no character", () => {
    const code = 'const greeting = "hi"; // say it\nreturn 42;';
    const pieces = highlight(code, "js");
    expect(pieces.map((piece) => piece.text).join("")).toBe(code);
    expect(pieces.filter((piece) => piece.kind === "keyword").map((piece) => piece.text)).toEqual(["const", "return"]);
    expect(pieces.find((piece) => piece.kind === "string")?.text).toBe('"hi"');
    expect(pieces.find((piece) => piece.kind === "comment")?.text).toBe("// say it");
    expect(pieces.find((piece) => piece.kind === "number")?.text).toBe("42");
    expect(highlight("x = 1  # note", "python").at(-1)).toEqual({ kind: "comment", text: "# note" });
  });
});

describe("exports", () => {
  const chat: Chat = {
    id: "c1",
    title: "Penguins / 企鹅?",
    createdAt: "2025-01-01T00:00:00.000Z",
    updatedAt: "2025-01-01T00:00:00.000Z",
    settings: { systemPrompt: "Be brief.", preset: "balanced", overrides: {}, contextSize: null, chatTemplate: null },
    versions: {},
    messages: [
      { id: "u", role: "user", text: "Where do they live?", createdAt: "", status: "complete", modelId: null, stats: null, error: null },
      {
        id: "a",
        role: "assistant",
        text: "In the **south**.\n",
        createdAt: "",
        status: "complete",
        modelId: "m",
        stats: null,
        error: null,
      },
    ],
  };

  it("writes Markdown with the title, the system prompt and each turn", () => {
    expect(chatToMarkdown(chat, { user: "You", assistant: "Assistant", system: "System prompt" })).toBe(
      "# Penguins / 企鹅?\n\n## System prompt\n\nBe brief.\n\n## You\n\nWhere do they live?\n\n## Assistant\n\nIn the **south**.\n",
    );
  });

  it("writes JSON that reads back as the chat", () => {
    const older = { ...chat.messages[1]!, id: "a0", text: "An earlier version." };
    const parsed = JSON.parse(chatToJson(chat, [chat.messages[0]!, older, chat.messages[1]!], "2025-02-02T00:00:00.000Z")) as {
      format: string;
      chat: Chat;
      allMessages: unknown[];
    };
    expect(parsed.format).toBe("quanta-chat");
    expect(parsed.chat).toEqual(chat);
    expect(parsed.allMessages).toEqual([chat.messages[0], older, chat.messages[1]]);
    expect(exportFileName(chat.title, "md")).toBe("Penguins-企鹅.md");
    expect(exportFileName("???", "json")).toBe("chat.json");
  });
});
