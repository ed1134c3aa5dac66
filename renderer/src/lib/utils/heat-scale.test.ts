import { describe, expect, it } from "vitest";
import { HEAT_BANDS, heatBand, heatBandLabel, heatColor } from "./heat-scale.js";

/** The opacity of a band's colour: how strongly it marks the token. */
const opacity = (color: string): number => Number(/\/ ([\d.]+)\)$/.exec(color)?.[1]);

describe("the token heatmap's colour scale", () => {
  it("puts a 6 % token and a 60 % token in clearly different bands", () => {
    expect(heatBand(0.6)).toBe(0);
    expect(heatBand(0.06)).toBe(2);
    expect(heatColor(0.06)).not.toBe(heatColor(0.6));
    // The less likely token is marked more strongly, not the other way round.
    expect(opacity(heatColor(0.06))).toBeGreaterThan(opacity(heatColor(0.6)) * 2);
  });

  it("marks lower probabilities ever more strongly, down to the last band", () => {
    const probabilities = [1, 0.6, 0.3, 0.1, 0.02, 0.001, 0];
    const bands = probabilities.map(heatBand);
    expect(bands).toEqual([0, 0, 1, 2, 3, 4, 4]);
    const opacities = HEAT_BANDS.map((band) => opacity(band.color));
    for (let index = 1; index < opacities.length; index++) expect(opacities[index]).toBeGreaterThan(opacities[index - 1]!);
    expect(heatBand(Number.NaN)).toBe(HEAT_BANDS.length - 1);
  });

  it("covers 0 to 1 without gaps, and says each band's range", () => {
    for (let index = 1; index < HEAT_BANDS.length; index++) expect(HEAT_BANDS[index]!.to).toBe(HEAT_BANDS[index - 1]!.from);
    expect(HEAT_BANDS[0]!.to).toBe(1);
    expect(HEAT_BANDS[HEAT_BANDS.length - 1]!.from).toBe(0);
    const labels = HEAT_BANDS.map((band) => heatBandLabel(band, String));
    expect(labels).toEqual(["≥ 50 %", "20–50 %", "5–20 %", "1–5 %", "< 1 %"]);
  });
});
