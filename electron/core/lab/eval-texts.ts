// Evaluation texts: the ones shipped in resources/eval (written for Quanta: English and
// Chinese prose, code, dialogue) and the user's own, kept under the data folder.

import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { QuantaError } from "../../contract/errors.js";
import type { EvalText } from "../../contract/types.js";
import { newId } from "../../common/ids.js";
import { writeJsonAtomic } from "../settings/json-file.js";

/** resources/eval above this module, from the sources (tests) or from dist/ alike. */
export function builtinTextsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, "resources", "eval");
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return candidate;
    dir = parent;
  }
}

/** Built-in texts in the order offered; the first is the default. */
const BUILTIN: ReadonlyArray<{ id: string; title: string }> = [
  { id: "mixed", title: "All texts together" },
  { id: "english-prose", title: "English prose" },
  { id: "chinese-prose", title: "Chinese prose" },
  { id: "code", title: "Code" },
  { id: "dialogue", title: "Dialogue" },
];

const userTextSchema = z.object({ title: z.string().min(1).max(120), text: z.string().min(1) }).strict();

export class EvalTexts {
  constructor(
    private readonly userDir: string,
    private readonly builtinDir: string = builtinTextsDir(),
  ) {}

  async list(): Promise<EvalText[]> {
    const texts: EvalText[] = [];
    for (const { id, title } of BUILTIN) {
      const text = await this.builtin(id).catch(() => null);
      if (text !== null) texts.push({ id, title, source: "builtin", chars: text.length });
    }
    let files: string[] = [];
    try {
      files = (await fs.readdir(this.userDir)).filter((file) => file.endsWith(".json")).sort();
    } catch {
      // no user texts yet
    }
    for (const file of files) {
      const user = await this.readUser(file.slice(0, -5)).catch(() => null);
      if (user) texts.push({ id: file.slice(0, -5), title: user.title, source: "user", chars: user.text.length });
    }
    return texts;
  }

  /** The text and its title; "not_found" for an unknown id. */
  async get(id: string): Promise<{ title: string; text: string }> {
    const builtin = BUILTIN.find((entry) => entry.id === id);
    if (builtin) return { title: builtin.title, text: await this.builtin(id) };
    const user = await this.readUser(id).catch(() => null);
    if (!user) throw new QuantaError("not_found", "That evaluation text is not there any more. Choose another.");
    return user;
  }

  async add(title: string, text: string): Promise<EvalText> {
    if (text.trim() === "") throw new QuantaError("invalid_request", "The evaluation text is empty.");
    const id = `user-${newId()}`;
    await writeJsonAtomic(path.join(this.userDir, `${id}.json`), { title: title.trim(), text });
    return { id, title: title.trim(), source: "user", chars: text.length };
  }

  /** Deletes a text the user added; a built-in text is refused, an unknown one is "not_found". */
  async delete(id: string): Promise<void> {
    if (BUILTIN.some((entry) => entry.id === id)) {
      throw new QuantaError("invalid_request", "Built-in evaluation texts cannot be deleted.", { reason: "builtin_text" });
    }
    await this.readUser(id).catch(() => {
      throw new QuantaError("not_found", "That evaluation text is not there any more.");
    });
    await fs.unlink(path.join(this.userDir, `${id}.json`));
  }

  private async builtin(id: string): Promise<string> {
    if (id !== "mixed") return fs.readFile(path.join(this.builtinDir, `${id}.txt`), "utf8");
    const parts = await Promise.all(BUILTIN.filter((entry) => entry.id !== "mixed").map((entry) => this.builtin(entry.id)));
    return parts.join("\n\n");
  }

  private async readUser(id: string): Promise<{ title: string; text: string }> {
    if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new QuantaError("not_found", "No such text.");
    return userTextSchema.parse(JSON.parse(await fs.readFile(path.join(this.userDir, `${id}.json`), "utf8")));
  }
}
