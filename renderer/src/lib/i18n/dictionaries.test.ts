// Every language has every key, none empty, with the same {placeholders} as English, and
// plural keys in whole .one/.other pairs. (The typecheck catches a missing key too; this
// test also catches an emptied string or a lost placeholder.)

import { describe, expect, it } from "vitest";
import { en } from "./en.js";
import { LANGUAGES } from "./languages.js";
import { zhCN } from "./zh-CN.js";

const dictionaries: Record<(typeof LANGUAGES)[number], Record<string, string>> = { en, "zh-CN": zhCN };

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();

describe("translations", () => {
  const keys = Object.keys(en);

  for (const language of LANGUAGES) {
    it(`${language} has every English key, none empty, with the same placeholders and nothing extra`, () => {
      const dictionary = dictionaries[language];
      const missing = keys.filter((key) => typeof dictionary[key] !== "string" || dictionary[key].trim() === "");
      expect(missing, `keys missing or empty in ${language}`).toEqual([]);
      expect(
        Object.keys(dictionary).filter((key) => !(key in en)),
        `keys only in ${language}`,
      ).toEqual([]);
      const mismatched = keys.filter(
        (key) => placeholders(dictionary[key] ?? "").join() !== placeholders(en[key as keyof typeof en]).join(),
      );
      expect(mismatched, `placeholders differ in ${language}`).toEqual([]);
    });
  }

  it("has plural keys only in .one/.other pairs", () => {
    for (const key of keys.filter((key) => key.endsWith(".one"))) expect(keys).toContain(key.replace(/\.one$/, ".other"));
    for (const key of keys.filter((key) => key.endsWith(".other"))) expect(keys).toContain(key.replace(/\.other$/, ".one"));
  });
});
