// The words of a local API request's markers on the hardware timeline, in the user's
// language: "API request" with its endpoint, model, tokens and speed, from the marker's
// details (the core's label is English, for logs and exports). Other markers are worded
// by MarkerList; this returns null for them.

import type { MonitorMarker } from "../api/contract.js";
import type { MessageKey } from "../i18n/en.js";

/** The translation functions the wording needs (i18n's own, or a dictionary's in a test). */
export interface MarkerTranslator {
  t(key: MessageKey, params?: Readonly<Record<string, string | number>>): string;
  formatNumber(value: number): string;
  formatRate(value: number): string;
}

function isApiRequest(marker: MonitorMarker): boolean {
  return marker.details?.endpoint !== undefined && (marker.kind === "generation-started" || marker.kind === "generation-ended");
}

/** The marker's short name, on the chart and in the list. */
export function markerTitleKey(marker: MonitorMarker): MessageKey {
  if (isApiRequest(marker)) return marker.kind === "generation-started" ? "hw.marker.api-started" : "hw.marker.api-ended";
  return `hw.marker.${marker.kind}`;
}

/** A local API request's marker in full (on hover), or null for any other marker. */
export function apiMarkerDetail(marker: MonitorMarker, words: MarkerTranslator): string | null {
  if (!isApiRequest(marker)) return null;
  const { endpoint = "", model = "", outcome = "done", tokens, tokensPerSecond } = marker.details ?? {};
  if (marker.kind === "generation-started") return words.t("hw.markerDetail.apiStarted", { endpoint, model });
  const how = words.t(`hw.markerDetail.apiOutcome.${outcome}`);
  return tokens !== undefined && tokensPerSecond !== undefined
    ? words.t("hw.markerDetail.apiEnded", {
        outcome: how,
        endpoint,
        model,
        tokens: words.formatNumber(tokens),
        speed: words.formatRate(tokensPerSecond),
      })
    : words.t("hw.markerDetail.apiEndedNoSpeed", { outcome: how, endpoint, model });
}
