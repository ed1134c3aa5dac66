// Streaming Markdown equals whole-text Markdown: a reply fed in pieces, at every split point of
// rich samples and in random chunk sizes, parses to exactly what parsing the whole text at that
// point gives; finished blocks are kept as the same objects. And code spans show as typed.

import { describe, expect, it } from "vitest";
import { parseMarkdown, StreamingMarkdown } from "./markdown.js";

const SAMPLES = [
  [
    "# Title",
    "Intro paragraph with **bold**, _em_, `code &lt;b&gt;` and a [link](https://example.org).",
    "",
    "Setext heading",
    "==============",
    "",
    "- one",
    "- two",
    "",
    "  continued item paragraph",
    "- three",
    "  1. nested",
    "  2. nested again",
    "",
    "1. first",
    "2. second",
    "",
    "```ts",
    "const a = 1;",
    "",
    "const b = `x`;",
    "```",
    "",
    "| a | b |",
    "|:--|--:|",
    "| 1 | 2 |",
    "| 3 | 4 |",
    "",
    "> quote line",
    "lazy continuation",
    "",
    "> second quote",
    "",
    "---",
    "",
    "    indented code",
    "",
    "<div>html block</div>",
    "",
    "Last paragraph &amp; entity",
    "with a second line  ",
    "and a hard break.",
  ].join("\n"),
  "Once upon a time there was a cat.\n\nIt sat.\nIt slept.\n\n\n\nThe end.\n",
  "Text right before a list\n- item\n- item\nText after\n\n```\nunclosed fence\n\nstill code",
  "Paragraph\n---\nMore\n***\n* a\n* b\n\n+ c\n\n2) two\n3) three\n\nTerm\n: not a definition list\n\nA line\n    not code (lazy)\n",
  "| h |\n|---|\n| c |\nafter table\n\n> q\n> > nested\n\n- [ ] task\n- [x] done\n",
];

describe("StreamingMarkdown", () => {
  it("equals parseMarkdown at every split point, fed as one prefix and then the whole", () => {
    for (const sample of SAMPLES) {
      for (let split = 0; split <= sample.length; split++) {
        const stream = new StreamingMarkdown();
        expect(stream.update(sample.slice(0, split))).toEqual(parseMarkdown(sample.slice(0, split)));
        expect(stream.update(sample)).toEqual(parseMarkdown(sample));
      }
    }
  });

  it("equals parseMarkdown after every piece when fed in random chunk sizes", () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const sample of SAMPLES) {
      for (let round = 0; round < 40; round++) {
        const stream = new StreamingMarkdown();
        for (let at = 0; at < sample.length;) {
          at = Math.min(sample.length, at + 1 + Math.floor(random() * 12));
          expect(stream.update(sample.slice(0, at))).toEqual(parseMarkdown(sample.slice(0, at)));
        }
      }
    }
  });

  it("keeps finished blocks as the same objects while the tail grows", () => {
    const stream = new StreamingMarkdown();
    const first = stream.update("# Title\n\nOne paragraph.\n\nSecond");
    const second = stream.update("# Title\n\nOne paragraph.\n\nSecond paragraph grows");
    expect(second[0]).toBe(first[0]);
    expect(second[1]).toBe(first[1]);
  });

  it("starts over when the text is not an extension of the last (an edit), and handles reference links", () => {
    const stream = new StreamingMarkdown();
    stream.update("# One\n\nTwo\n\nThree");
    expect(stream.update("# Uno\n\nDos")).toEqual(parseMarkdown("# Uno\n\nDos"));
    const withReference = "See [the docs][d].\n\nMore text.\n\n[d]: https://example.org/docs";
    for (let split = 0; split <= withReference.length; split++) {
      const reference = new StreamingMarkdown();
      reference.update(withReference.slice(0, split));
      expect(reference.update(withReference)).toEqual(parseMarkdown(withReference));
    }
  });
});

describe("code spans", () => {
  it("show entities as typed: `&lt;div&gt;` is not <div>", () => {
    const [paragraph] = parseMarkdown("Use `&lt;div&gt;` and `a &amp; b`, not &lt;div&gt;.");
    expect(paragraph).toEqual({
      kind: "paragraph",
      children: [
        { kind: "text", text: "Use " },
        { kind: "code", text: "&lt;div&gt;" },
        { kind: "text", text: " and " },
        { kind: "code", text: "a &amp; b" },
        { kind: "text", text: ", not <div>." },
      ],
    });
  });
});
