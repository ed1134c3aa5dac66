// A conversation as a file: Markdown to read, JSON to keep (the branch shown with its
// settings and each reply's model, sampling and figures). Made in the page, downloaded.

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

export interface ChatExport {
  format: "quanta-chat";
  version: 1;
  exportedAt: string;
  chat: Chat;
}

export function chatToJson(chat: Chat, exportedAt = new Date().toISOString()): string {
  const document: ChatExport = { format: "quanta-chat", version: 1, exportedAt, chat };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** A file name from the title: letters (any script), digits, - and _. */
export function exportFileName(title: string, extension: "md" | "json"): string {
  const stem = title
    .normalize("NFKC")
    .replace(/[^\p{L}\p{N}_-]+/gu, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
  return `${stem || "chat"}.${extension}`;
}
