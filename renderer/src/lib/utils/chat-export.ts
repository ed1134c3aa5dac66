// A conversation as a file: Markdown to read (the branch shown), JSON to keep (that branch
// with its settings, and every version of every message with each reply's model, sampling
// and figures). Made in the page and downloaded.

import type { Chat } from "../api/index.js";

export interface ExportLabels {
  user: string;
  assistant: string;
  system: string;
}

export function chatToMarkdown(chat: Chat, labels: ExportLabels): string {
  const lines: string[] = [`# ${chat.title}`, ""];
  if (chat.settings.systemPrompt.trim() !== "") lines.push(`## ${labels.system}`, "", chat.settings.systemPrompt.trim(), "");
  for (const message of chat.messages) {
    lines.push(`## ${message.role === "user" ? labels.user : labels.assistant}`, "", message.text.trimEnd(), "");
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

// The JSON format is the contract's: the core imports what this exports.
export { chatToJson, type ChatExport } from "../api/contract.js";

/** A file name from the title: letters (any script), digits, - and _. */
export function exportFileName(title: string, extension: "md" | "json"): string {
  const stem = title
    .normalize("NFKC")
    .replace(/[^\p{L}\p{N}_-]+/gu, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
  return `${stem || "chat"}.${extension}`;
}
