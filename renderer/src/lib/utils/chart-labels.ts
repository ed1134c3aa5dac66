// Where a scatter chart writes each point's label: beside its point, on the first side where it
// overlaps no label already placed, no other point and nothing outside the plot; a label with
// no such place is left out (the table and the front's text name every point). Pure: pixels in,
// boxes out, so the rule is tested without a canvas.

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface LabelRequest {
  /** The point, in pixels. */
  x: number;
  y: number;
  /** The label's measured size. */
  width: number;
  height: number;
}

const overlaps = (a: Box, b: Box): boolean =>
  a.left < b.left + b.width && b.left < a.left + a.width && a.top < b.top + b.height && b.top < a.top + a.height;

const inside = (box: Box, bounds: Box): boolean =>
  box.left >= bounds.left &&
  box.top >= bounds.top &&
  box.left + box.width <= bounds.left + bounds.width &&
  box.top + box.height <= bounds.top + bounds.height;

/**
 * A box per request (its top-left corner and size) or null where none fits. `gap` is the space
 * between a point and its label; `marker` the radius kept clear around every point.
 */
export function placeLabels(requests: readonly LabelRequest[], bounds: Box, gap: number, marker: number): Array<Box | null> {
  const placed: Box[] = [];
  const points: Box[] = requests.map((r) => ({ left: r.x - marker, top: r.y - marker, width: 2 * marker, height: 2 * marker }));
  return requests.map((request) => {
    const { x, y, width, height } = request;
    // Right above, right below, left above, left below, then centred above and below, then further out.
    const candidates: Array<[number, number]> = [
      [x + gap, y - gap - height],
      [x + gap, y + gap],
      [x - gap - width, y - gap - height],
      [x - gap - width, y + gap],
      [x - width / 2, y - marker - gap - height],
      [x - width / 2, y + marker + gap],
      [x + gap, y - gap - 2 * height],
      [x + gap, y + gap + height],
      [x - gap - width, y - gap - 2 * height],
      [x - gap - width, y + gap + height],
    ];
    for (const [left, top] of candidates) {
      const box = { left, top, width, height };
      if (!inside(box, bounds)) continue;
      if (placed.some((other) => overlaps(box, other))) continue;
      if (points.some((point) => overlaps(box, point))) continue;
      placed.push(box);
      return box;
    }
    return null;
  });
}

/** Whether any two boxes overlap (for checks). */
export function anyOverlap(boxes: ReadonlyArray<Box | null>): boolean {
  const present = boxes.filter((box): box is Box => box !== null);
  return present.some((a, i) => present.some((b, j) => j > i && overlaps(a, b)));
}
