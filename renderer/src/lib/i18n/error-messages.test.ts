// Every error code the core can send is worded in every language (never only the core's
// English), and every precise wording (error.<code>.<reason>) belongs to a real code.

import { describe, expect, it } from "vitest";
import { ERROR_CODES, isErrorCode } from "../api/contract.js";
import { en } from "./en.js";
import { zhCN } from "./zh-CN.js";

const dictionaries: Record<string, Record<string, string>> = { en, "zh-CN": zhCN };

describe("error messages", () => {
  for (const [language, dictionary] of Object.entries(dictionaries)) {
    it(`words every error code in ${language}`, () => {
      const missing = ERROR_CODES.filter((code) => (dictionary[`error.${code}`] ?? "").trim() === "");
      expect(missing).toEqual([]);
    });
  }

  it("says the Chinese messages in Chinese, not in the core's English", () => {
    const english = ERROR_CODES.filter((code) => !/[\u4e00-\u9fff]/.test(zhCN[`error.${code}`]));
    expect(english).toEqual([]);
  });

  it("keys precise wordings by a real code", () => {
    const reasons = Object.keys(en).filter((key) => /^error\.[^.]+\.[^.]+$/.test(key));
    expect(reasons.length).toBeGreaterThan(0);
    for (const key of reasons) expect(isErrorCode(key.split(".")[1])).toBe(true);
  });
});
