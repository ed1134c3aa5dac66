import { describe, expect, it } from "vitest";
import { anyOverlap, placeLabels, type LabelRequest } from "./chart-labels.js";

const bounds = { left: 0, top: 0, width: 400, height: 200 };
const label = (x: number, y: number, width = 60): LabelRequest => ({ x, y, width, height: 12 });

describe("labels beside a scatter chart's points", () => {
  it("places labels of points close together without overlapping (Q8_0 and Q4_K_M near 0 loss)", () => {
    // The old rule wrote every label at the same offset right-above its point: these two collide.
    const requests = [label(200, 150), label(210, 152), label(220, 149), label(205, 160)];
    const boxes = placeLabels(requests, bounds, 6, 4);
    expect(boxes.filter((box) => box !== null).length).toBeGreaterThanOrEqual(3);
    expect(anyOverlap(boxes)).toBe(false);
  });

  it("keeps labels inside the plot, moving them left of a point at the right edge", () => {
    const [box] = placeLabels([label(395, 100)], bounds, 6, 4);
    expect(box).not.toBeNull();
    expect(box!.left + box!.width).toBeLessThanOrEqual(400);
    expect(box!.left).toBeLessThan(395);
  });

  it("never covers another point, and leaves out a label with no free place", () => {
    const crowded = Array.from({ length: 40 }, (_, index) => label(100 + (index % 5) * 3, 100 + Math.floor(index / 5) * 3));
    const boxes = placeLabels(crowded, bounds, 6, 4);
    expect(anyOverlap(boxes)).toBe(false);
    expect(boxes.some((box) => box === null)).toBe(true);
    const [first] = placeLabels([label(100, 100), label(100, 80)], bounds, 6, 4);
    // Right above the first point would cover the second (at y 80): it goes elsewhere.
    expect(first!.top + first!.height <= 76 || first!.top >= 84 || first!.left >= 104 || first!.left + first!.width <= 96).toBe(true);
  });
});
