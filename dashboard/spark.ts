/** A small line of the selected range on a canvas: one per overview cell, drawn only when shown. */

export function sparkline(
  values: readonly (number | null)[],
  options: { max?: number; color: string; width?: number; height?: number },
): HTMLCanvasElement {
  const width = options.width ?? 80;
  const height = options.height ?? 22;
  const canvas = document.createElement("canvas");
  const ratio = globalThis.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  canvas.className = "spark";
  canvas.setAttribute("aria-hidden", "true");
  const present = values.filter((value): value is number => value !== null);
  canvas.dataset.points = String(present.length);
  const context = canvas.getContext("2d");
  if (!context || present.length === 0) return canvas;
  context.scale(ratio, ratio);
  const top = options.max ?? Math.max(...present) * 1.1;
  const scale = top > 0 ? (height - 2) / top : 0;
  const stepX = values.length > 1 ? width / (values.length - 1) : width;
  context.strokeStyle = options.color;
  context.lineWidth = 1.25;
  context.beginPath();
  let drawing = false;
  values.forEach((value, i) => {
    if (value === null) {
      drawing = false;
      return;
    }
    const x = i * stepX;
    const y = height - 1 - Math.min(value, top) * scale;
    if (drawing) context.lineTo(x, y);
    else {
      context.moveTo(x, y);
      // A lone bucket is a dot, so a new agent shows something at once.
      context.fillStyle = options.color;
      context.fillRect(x - 1, y - 1, 2, 2);
      drawing = true;
    }
  });
  context.stroke();
  return canvas;
}
