// Simple syntax highlighting for code blocks: comments, strings, numbers and the keywords
// of the common languages. Pieces of text with a kind; the component makes them spans.

export type CodePieceKind = "plain" | "comment" | "string" | "number" | "keyword";

export interface CodePiece {
  kind: CodePieceKind;
  text: string;
}

const KEYWORDS = new Set(
  (
    "as async await break case catch class const continue def default del do elif else enum export extends false " +
    "final finally fn for from func function go if impl import in interface is lambda let match mod mut new nil " +
    "none null pass package private protected pub public raise return self static struct super switch this throw " +
    "true try type typeof use var void while with yield True False None int float str bool char long double auto"
  ).split(" "),
);

const HASH_COMMENT_LANGS = new Set(["py", "python", "sh", "bash", "shell", "zsh", "rb", "ruby", "yaml", "yml", "toml", "r", "perl", "pl"]);

export function highlight(code: string, lang: string): CodePiece[] {
  const hash = HASH_COMMENT_LANGS.has(lang.toLowerCase());
  const pattern = hash
    ? /(#[^\n]*)|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|(\b\d[\d_]*(?:\.\d+)?\b)|([A-Za-z_][A-Za-z0-9_]*)/g
    : /(\/\/[^\n]*|\/\*[\s\S]*?\*\/)|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`)|(\b\d[\d_]*(?:\.\d+)?\b)|([A-Za-z_][A-Za-z0-9_]*)/g;
  const pieces: CodePiece[] = [];
  let last = 0;
  const push = (kind: CodePieceKind, text: string) => {
    if (text === "") return;
    const previous = pieces.at(-1);
    if (previous && previous.kind === kind) previous.text += text;
    else pieces.push({ kind, text });
  };
  for (const match of code.matchAll(pattern)) {
    const index = match.index;
    push("plain", code.slice(last, index));
    const [text, comment, string, number, word] = match;
    if (comment !== undefined) push("comment", text);
    else if (string !== undefined) push("string", text);
    else if (number !== undefined) push("number", text);
    else if (word !== undefined) push(KEYWORDS.has(word) ? "keyword" : "plain", text);
    last = index + text.length;
  }
  push("plain", code.slice(last));
  return pieces;
}
