// The charts as one PNG: each chart's canvas under its title and legend, stacked on the
// page's background colour, with a heading. Drawn at the canvases' own pixel density.

export interface ChartPicture {
  title: string;
  /** The readout shown beside the chart (e.g. "now 12.4 tok/s · peak 31 tok/s"). */
  detail: string;
  legend: { label: string; color: string }[];
  canvas: HTMLCanvasElement;
}

/** What a chart component hands over for the export: its drawn canvas (null before the first draw). */
export interface ChartCanvas {
  canvas(): HTMLCanvasElement | null;
}

/** A chart with its title and legend, ready for the export (null when not drawn). */
export interface ChartSource {
  picture(): ThemedChart | null;
}

export interface ImageTheme {
  background: string;
  text: string;
  muted: string;
  border: string;
  font: string;
}

/** A CSS custom property (a colour, a font) as it applies to an element, as a canvas needs it. */
export function cssValue(name: string, element: Element = document.documentElement): string {
  return getComputedStyle(element).getPropertyValue(name).trim();
}

/** The page's theme as it is now, so the picture looks like the screen. */
export function pageTheme(): ImageTheme {
  return {
    background: cssValue("--surface"),
    text: cssValue("--text"),
    muted: cssValue("--text-muted"),
    border: cssValue("--border"),
    font: cssValue("--font-sans") || "system-ui",
  };
}

/** A chart whose series colours are CSS custom properties (e.g. "--chart-1"). */
export interface ThemedChart {
  title: string;
  detail: string;
  canvas: HTMLCanvasElement;
  series: { label: string; color: string }[];
}

/** Pictures of the charts that are drawn (null for one that is not), their colours resolved. */
export function themedPictures(charts: ReadonlyArray<ThemedChart | null>): ChartPicture[] {
  return charts.flatMap((chart) =>
    chart
      ? [
          {
            title: chart.title,
            detail: chart.detail,
            canvas: chart.canvas,
            legend: chart.series.map((s) => ({ label: s.label, color: cssValue(s.color) })),
          },
        ]
      : [],
  );
}

export function composeCharts(heading: string, subheading: string, charts: ChartPicture[], theme: ImageTheme = pageTheme()): Promise<Blob> {
  const scale = window.devicePixelRatio || 1;
  const px = (value: number) => Math.round(value * scale);
  const pad = px(24);
  const titleBlock = px(30);
  const lineHeight = px(18);
  const gap = px(20);
  const width = Math.max(px(480), ...charts.map((chart) => chart.canvas.width)) + pad * 2;

  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d");
  if (!ctx) return Promise.reject(new Error("This browser cannot draw on a canvas."));

  /**
   * A chart's title, readout and legend, left to right, wrapping to another line where the
   * next piece would not fit (several runs' labels make a long legend). Returns the lines used.
   */
  const titleLine = (chart: ChartPicture, top: number, draw: boolean): number => {
    let baseline = top + px(20);
    let x = pad;
    let lines = 1;
    const place = (pieceWidth: number): void => {
      if (x > pad && x + pieceWidth > width - pad) {
        x = pad;
        baseline += lineHeight;
        lines += 1;
      }
    };
    ctx.font = `600 ${px(13)}px ${theme.font}`;
    const titleWidth = ctx.measureText(chart.title).width;
    place(titleWidth);
    if (draw) {
      ctx.fillStyle = theme.text;
      ctx.fillText(chart.title, x, baseline);
    }
    x += titleWidth + px(12);
    ctx.font = `${px(12)}px ${theme.font}`;
    const detailWidth = ctx.measureText(chart.detail).width;
    place(detailWidth);
    if (draw) {
      ctx.fillStyle = theme.muted;
      ctx.fillText(chart.detail, x, baseline);
    }
    x += detailWidth + px(16);
    for (const entry of chart.legend) {
      const labelWidth = ctx.measureText(entry.label).width;
      place(px(14) + labelWidth);
      if (draw) {
        ctx.fillStyle = entry.color;
        ctx.fillRect(x, baseline - px(8), px(10), px(3));
        ctx.fillStyle = theme.muted;
        ctx.fillText(entry.label, x + px(14), baseline);
      }
      x += px(14) + labelWidth + px(12);
    }
    return lines;
  };

  const extraLines = charts.map((chart) => titleLine(chart, 0, false) - 1);
  const height =
    pad +
    px(46) +
    charts.reduce((sum, chart, index) => sum + titleBlock + (extraLines[index] ?? 0) * lineHeight + chart.canvas.height + gap, 0) +
    pad -
    gap;
  // Setting the size clears the canvas and its state; everything is drawn from here on.
  canvas.width = width;
  canvas.height = height;

  ctx.fillStyle = theme.background;
  ctx.fillRect(0, 0, width, height);
  ctx.textBaseline = "alphabetic";

  ctx.fillStyle = theme.text;
  ctx.font = `600 ${px(17)}px ${theme.font}`;
  ctx.fillText(heading, pad, pad + px(16));
  ctx.fillStyle = theme.muted;
  ctx.font = `${px(12)}px ${theme.font}`;
  ctx.fillText(subheading, pad, pad + px(34));

  let y = pad + px(46);
  charts.forEach((chart, index) => {
    ctx.strokeStyle = theme.border;
    ctx.lineWidth = Math.max(1, px(1));
    ctx.beginPath();
    ctx.moveTo(pad, y + 0.5);
    ctx.lineTo(width - pad, y + 0.5);
    ctx.stroke();

    titleLine(chart, y, true);
    y += titleBlock + (extraLines[index] ?? 0) * lineHeight;
    ctx.drawImage(chart.canvas, pad, y);
    y += chart.canvas.height + gap;
  });

  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("The image could not be encoded."))), "image/png");
  });
}
