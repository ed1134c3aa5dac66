import { describe, expect, it } from "vitest";
import { DEFAULT_CHAT_SETTINGS, rebaseSettings, settingsChanges } from "../../electron/contract/chat-settings.js";
import type { ChatSettings } from "../../electron/contract/types.js";

const base: ChatSettings = { ...DEFAULT_CHAT_SETTINGS, systemPrompt: "Be brief.", overrides: { temperature: 0.5, seed: 7 } };

describe("a tab's working copy of a conversation's settings", () => {
  it("saves only the fields it changed, sampling values compared by value", () => {
    expect(settingsChanges(base, structuredClone(base))).toEqual({});
    // The same values in another order are no change.
    expect(settingsChanges(base, { ...base, overrides: { seed: 7, temperature: 0.5 } })).toEqual({});
    expect(settingsChanges(base, { ...base, systemPrompt: "Be long." })).toEqual({ systemPrompt: "Be long." });
    // A value set by hand and then cleared changes the whole group of overrides.
    expect(settingsChanges(base, { ...base, overrides: { temperature: 0.5 } })).toEqual({ overrides: { temperature: 0.5 } });
    expect(settingsChanges(base, { ...base, overrides: { temperature: 0.5, seed: 7, topK: 3 } })).toEqual({
      overrides: { temperature: 0.5, seed: 7, topK: 3 },
    });
    expect(settingsChanges(base, { ...base, contextSize: 512, chatTemplate: "chatML" })).toEqual({
      contextSize: 512,
      chatTemplate: "chatML",
    });
  });

  it("moves onto settings saved elsewhere and keeps its own changes", () => {
    const edited: ChatSettings = { ...base, preset: "creative" };
    const savedElsewhere: ChatSettings = { ...base, systemPrompt: "Answer as a pirate.", contextSize: 256 };
    expect(rebaseSettings(edited, base, savedElsewhere)).toEqual({ ...savedElsewhere, preset: "creative" });
    // Nothing changed here: the copy becomes what was saved.
    expect(rebaseSettings(base, base, savedElsewhere)).toEqual(savedElsewhere);
    // The same field changed in both: this tab's value, which it is about to save.
    expect(rebaseSettings({ ...base, systemPrompt: "Mine." }, base, savedElsewhere).systemPrompt).toBe("Mine.");
  });
});
