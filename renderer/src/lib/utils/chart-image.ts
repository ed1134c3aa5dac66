// The charts as one PNG: each chart's canvas under its title and legend, stacked on the
// page's background colour, with a heading. Drawn at the canvases' own pixel density.

export interface ChartPicture {
  title: string;
  /** The readout shown beside the chart (e.g. "now 12.4 tok/s · peak 31 tok/s"). */
  detail: string;
  legend: { label: string; color: string }[];
  canvas: HTMLCanvasElement;
}

export interface ImageTheme {
  background: string;
  text: string;
  muted: string;
  border: string;
  font: string;
}

export function composeCharts(heading: string, subheading: string, charts: ChartPicture[], theme: ImageTheme): Promise<Blob> {
  const scale = window.devicePixelRatio || 1;
  const px = (value: number) => Math.round(value * scale);
  const pad = px(24);
  const titleBlock = px(30);
  const gap = px(20);
  const width = Math.max(px(480), ...charts.map((chart) => chart.canvas.width)) + pad * 2;
  const height =
    pad + px(46) + charts.reduce((sum, chart) => sum + titleBlock + chart.canvas.height + gap, 0) + pad - gap;

  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  if (!ctx) return Promise.reject(new Error("This browser cannot draw on a canvas."));

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
  for (const chart of charts) {
    ctx.strokeStyle = theme.border;
    ctx.lineWidth = Math.max(1, px(1));
    ctx.beginPath();
    ctx.moveTo(pad, y + 0.5);
    ctx.lineTo(width - pad, y + 0.5);
    ctx.stroke();

    const baseline = y + px(20);
    ctx.fillStyle = theme.text;
    ctx.font = `600 ${px(13)}px ${theme.font}`;
    ctx.fillText(chart.title, pad, baseline);
    let x = pad + ctx.measureText(chart.title).width + px(12);
    ctx.font = `${px(12)}px ${theme.font}`;
    ctx.fillStyle = theme.muted;
    ctx.fillText(chart.detail, x, baseline);
    x += ctx.measureText(chart.detail).width + px(16);
    for (const entry of chart.legend) {
      ctx.fillStyle = entry.color;
      ctx.fillRect(x, baseline - px(8), px(10), px(3));
      x += px(14);
      ctx.fillStyle = theme.muted;
      ctx.fillText(entry.label, x, baseline);
      x += ctx.measureText(entry.label).width + px(12);
    }

    y += titleBlock;
    ctx.drawImage(chart.canvas, pad, y);
    y += chart.canvas.height + gap;
  }

  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("The image could not be encoded."))), "image/png");
  });
}
