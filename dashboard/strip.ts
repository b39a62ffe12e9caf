/**
 * A check's runs over the range as a strip of buckets: green where every run succeeded, red
 * where every run failed, amber where some failed, and a faint line where no run happened.
 */
import { pixelCanvas } from "./dom.ts";

export interface UpBucket {
  /** Share of runs that succeeded. */
  avg: number;
  min: number;
  max: number;
}

export interface StripColors {
  up: string;
  down: string;
  partial: string;
  none: string;
}

/** The theme's colours (CSS variables), read once per render. */
export function stripColors(): StripColors {
  const style = getComputedStyle(document.documentElement);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    up: read("--ok", "#16a34a"),
    down: read("--bad", "#dc2626"),
    partial: read("--warn", "#d97706"),
    none: read("--line", "#e1e5eb"),
  };
}

export function upStrip(
  buckets: readonly (UpBucket | null)[],
  options: { colors: StripColors; width?: number; height?: number; title?: string },
): HTMLCanvasElement {
  const width = options.width ?? 120;
  const height = options.height ?? 14;
  const { canvas, context } = pixelCanvas(width, height, {
    className: "strip",
    title: options.title,
  });
  if (!context || buckets.length === 0) return canvas;
  const slot = width / buckets.length;
  // A hair of space between buckets when they are wide enough to show it.
  const gap = slot >= 4 ? 1 : 0;
  buckets.forEach((bucket, i) => {
    const x = i * slot;
    if (bucket === null) {
      context.fillStyle = options.colors.none;
      context.fillRect(x, height / 2 - 1, slot, 2);
      return;
    }
    context.fillStyle = bucket.min >= 1
      ? options.colors.up
      : bucket.max <= 0
      ? options.colors.down
      : options.colors.partial;
    context.fillRect(x, 0, Math.max(1, slot - gap), height);
  });
  return canvas;
}
