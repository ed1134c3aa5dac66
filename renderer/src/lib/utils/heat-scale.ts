// The token heatmap's colour scale: five probability bands, each a step stronger as the
// probability falls, so an unlikely token stands out (a 6 % token is amber, a 60 % one faint
// green). A continuous log scale down to 0.01 % put 6 % and 60 % a quarter of the scale apart;
// bands with a legend say what each colour means.

export interface HeatBand {
  /** The lowest probability in the band (inclusive). */
  from: number;
  /** The highest (exclusive; 1 for the top band, inclusive). */
  to: number;
  /** Background: hue from green to red, opacity rising as the probability falls. */
  color: string;
}

/** Top band first. */
export const HEAT_BANDS: readonly HeatBand[] = [
  { from: 0.5, to: 1, color: "hsl(130 60% 45% / 0.2)" },
  { from: 0.2, to: 0.5, color: "hsl(75 75% 45% / 0.35)" },
  { from: 0.05, to: 0.2, color: "hsl(40 95% 50% / 0.5)" },
  { from: 0.01, to: 0.05, color: "hsl(18 95% 50% / 0.62)" },
  { from: 0, to: 0.01, color: "hsl(0 85% 48% / 0.78)" },
];

/** The index in HEAT_BANDS of a probability's band (0: the most likely). */
export function heatBand(probability: number): number {
  const p = Number.isFinite(probability) ? probability : 0;
  const index = HEAT_BANDS.findIndex((band) => p >= band.from);
  return index < 0 ? HEAT_BANDS.length - 1 : index;
}

export function heatColor(probability: number): string {
  return (HEAT_BANDS[heatBand(probability)] ?? HEAT_BANDS[HEAT_BANDS.length - 1]!).color;
}

/** A band's range as a legend says it, with the caller's number formatting ("≥ 50 %", "5–20 %", "< 1 %"). */
export function heatBandLabel(band: HeatBand, percent: (value: number) => string): string {
  if (band.to >= 1) return `≥ ${percent(band.from * 100)} %`;
  if (band.from <= 0) return `< ${percent(band.to * 100)} %`;
  return `${percent(band.from * 100)}–${percent(band.to * 100)} %`;
}
