/**
 * A small line of the selected range on a canvas: one per overview cell, drawn only when shown.
 *
 * Buckets are drawn from `startIndex` on: the overview passes the bucket of the agent's first
 * sample, so a new agent's few minutes fill the line instead of a dot at its right edge (the
 * agent page's charts start at the first sample the same way), and says so beside it. Each
 * bucket spans its own width, so a single bucket is a level line, never a dot.
 */
import { pixelCanvas } from "./dom.ts";

export interface SparklineOptions {
  /** Top of the y axis; default the largest value plus a tenth. */
  max?: number;
  color: string;
  width?: number;
  height?: number;
  /** Buckets before this one are left out (they are from before the source existed). */
  startIndex?: number;
  /** The canvas's tooltip. */
  title?: string;
}

export function sparkline(
  allValues: readonly (number | null)[],
  options: SparklineOptions,
): HTMLCanvasElement {
  const width = options.width ?? 80;
  const height = options.height ?? 22;
  const { canvas, context } = pixelCanvas(width, height, {
    className: "spark",
    title: options.title,
  });
  const startIndex = Math.min(Math.max(0, options.startIndex ?? 0), allValues.length);
  const values = allValues.slice(startIndex);
  const present = values.filter((value): value is number => value !== null);
  canvas.dataset.points = String(present.length);
  if (!context || present.length === 0) return canvas;
  const top = options.max ?? Math.max(...present) * 1.1;
  const scale = top > 0 ? (height - 3) / top : 0;
  const bucketWidth = width / values.length;
  const yOf = (value: number) => height - 1.5 - Math.min(Math.max(value, 0), top) * scale;
  context.strokeStyle = options.color;
  context.fillStyle = options.color;
  context.lineWidth = 1.5;
  context.lineJoin = "round";
  // Runs of buckets with data; a null bucket (nothing arrived) breaks the line.
  let run: { x: number; y: number }[] = [];
  const flush = () => {
    if (run.length === 0) return;
    // A run covers its buckets' span: from the first one's left edge to the last one's right.
    const left = run[0].x - bucketWidth / 2;
    const right = run[run.length - 1].x + bucketWidth / 2;
    const path = [{ x: left, y: run[0].y }, ...run, { x: right, y: run[run.length - 1].y }];
    context.beginPath();
    path.forEach((p, i) => i === 0 ? context.moveTo(p.x, p.y) : context.lineTo(p.x, p.y));
    context.stroke();
    context.lineTo(right, height);
    context.lineTo(left, height);
    context.closePath();
    context.globalAlpha = 0.15;
    context.fill();
    context.globalAlpha = 1;
    run = [];
  };
  values.forEach((value, i) => {
    if (value === null) flush();
    else run.push({ x: (i + 0.5) * bucketWidth, y: yOf(value) });
  });
  flush();
  return canvas;
}
