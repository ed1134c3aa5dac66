// The data the chart components draw: scatter series (ScatterChart) and time series with
// markers (TimeChart), in a module of its own so that plain TypeScript can name them too.

export interface ScatterPoint {
  x: number;
  y: number;
  label: string;
}

export interface ScatterSeries {
  label: string;
  /** A CSS custom property holding the colour, e.g. "--chart-1". */
  color: string;
  points: ScatterPoint[];
  /** Join the points with a line (in x order) instead of showing them alone. */
  line?: boolean;
}

export interface ChartSeries {
  /** The Timeline column. */
  key: string;
  label: string;
  /** A CSS custom property holding the colour, e.g. "--chart-1". */
  color: string;
  width?: number;
  fill?: boolean;
}

export interface ChartMarker {
  /** Milliseconds since the epoch. */
  at: number;
  label: string;
  tone: "accent" | "muted" | "success" | "danger";
}
