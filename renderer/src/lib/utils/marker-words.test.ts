// A local API request's timeline markers are worded from their details in the user's
// language: in Chinese, nothing of the core's English label shows, only the names the user's
// client sent (the endpoint and the model id) and the term "API", which the Chinese UI uses.

import { describe, expect, it } from "vitest";
import type { MonitorMarker } from "../api/contract.js";
import { en, type MessageKey } from "../i18n/en.js";
import { zhCN } from "../i18n/zh-CN.js";
import { apiMarkerDetail, markerTitleKey, type MarkerTranslator } from "./marker-words.js";

function translator(dictionary: Record<MessageKey, string>): MarkerTranslator {
  return {
    t: (key, params) => dictionary[key].replace(/\{(\w+)\}/g, (match, name: string) => String(params?.[name] ?? match)),
    formatNumber: (value) => String(value),
    formatRate: (value) => value.toFixed(1),
  };
}

// As the core sends them (hardware-monitor.ts): an English label, and the details.
const markers: MonitorMarker[] = [
  {
    at: 1,
    kind: "generation-started",
    label: "API /v1/chat/completions · stories260K",
    details: { endpoint: "/v1/chat/completions", model: "stories260K" },
  },
  {
    at: 2,
    kind: "generation-ended",
    label: "API /v1/chat/completions · stories260K done: 24 tokens, 612.5 tok/s",
    details: { endpoint: "/v1/chat/completions", model: "stories260K", outcome: "done", tokens: 24, tokensPerSecond: 612.5 },
  },
  {
    at: 3,
    kind: "generation-ended",
    label: "API /v1/messages · stories260K stopped: 3 tokens, 80 tok/s",
    details: { endpoint: "/v1/messages", model: "stories260K", outcome: "stopped", tokens: 3, tokensPerSecond: 80 },
  },
  {
    at: 4,
    kind: "generation-ended",
    label: "API /v1/completions · stories260K failed",
    details: { endpoint: "/v1/completions", model: "stories260K", outcome: "failed" },
  },
];

/** The text with the names the client sent and the term "API" taken out: what is left must hold no Latin letters. */
function latinLeft(text: string, marker: MonitorMarker): string[] {
  let rest = text;
  for (const name of [marker.details?.endpoint ?? "", marker.details?.model ?? ""]) rest = rest.split(name).join(" ");
  return (rest.replace(/\bAPI\b/g, " ").match(/[A-Za-z]+/g) ?? []).filter((word) => word !== "");
}

describe("API request markers", () => {
  it("are worded in Chinese with no English left, endpoint, model, tokens and speed included", () => {
    const words = translator(zhCN);
    for (const marker of markers) {
      const title = words.t(markerTitleKey(marker));
      const detail = apiMarkerDetail(marker, words) ?? "";
      expect(latinLeft(title, marker)).toEqual([]);
      expect(latinLeft(detail, marker)).toEqual([]);
      expect(detail).toContain(marker.details?.endpoint);
      expect(detail).toContain(marker.details?.model);
      if (marker.details?.tokensPerSecond !== undefined) {
        expect(detail).toContain(String(marker.details.tokens));
        expect(detail).toContain(marker.details.tokensPerSecond.toFixed(1));
      }
    }
    // Each outcome has its own words.
    const outcomes = markers.slice(1).map((marker) => apiMarkerDetail(marker, words) ?? "");
    expect(outcomes[0]).toContain(zhCN["hw.markerDetail.apiOutcome.done"]);
    expect(outcomes[1]).toContain(zhCN["hw.markerDetail.apiOutcome.stopped"]);
    expect(outcomes[2]).toContain(zhCN["hw.markerDetail.apiOutcome.failed"]);
  });

  it("say API request, not Reply, in English too", () => {
    const words = translator(en);
    expect(words.t(markerTitleKey(markers[0] as MonitorMarker))).toBe("API request started");
    expect(apiMarkerDetail(markers[1] as MonitorMarker, words)).toBe(
      "API request finished (/v1/chat/completions, stories260K): 24 tokens at 612.5 tokens/s",
    );
  });

  it("leave a chat reply's markers to the chat's wording", () => {
    const reply: MonitorMarker = { at: 5, kind: "generation-started", label: "Reply with stories260K", details: { model: "stories260K" } };
    expect(markerTitleKey(reply)).toBe("hw.marker.generation-started");
    expect(apiMarkerDetail(reply, translator(zhCN))).toBeNull();
  });
});
