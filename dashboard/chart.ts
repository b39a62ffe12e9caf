/**
 * One chart card: a title, a live legend, a uPlot time-series chart and, when there is nothing to
 * draw, a sentence saying why. Cursors of all cards move together; dragging across a chart
 * selects a range to zoom into.
 */
import uPlot from "uplot";
import { h, replace } from "./dom.ts";
import { formatTime, formatValue } from "./format.ts";

export interface ChartSeries {
  label: string;
  /** Ascending epoch ms. */
  times: number[];
  values: number[];
  /** A thicker line (e.g. overall CPU among its cores). */
  strong?: boolean;
  /** Sort key before the label (the metric's place in its chart). */
  order?: number;
}

export interface ChartData {
  series: ChartSeries[];
  /** The x axis, epoch ms. */
  fromMs: number;
  toMs: number;
  stepMs: number;
  /** Shown when there is no series at all, e.g. "This agent reports no disk I/O". */
  noSeriesText: string;
}

const SYNC_KEY = "oxmon-charts";
export const PALETTE = [
  "#3b82f6",
  "#f59e0b",
  "#10b981",
  "#ef4444",
  "#8b5cf6",
  "#06b6d4",
  "#ec4899",
  "#84cc16",
  "#f97316",
  "#64748b",
];

/** A colour key; styled through the CSSOM, which the page's CSP allows (style attributes it does not). */
export function swatch(color: string): HTMLElement {
  const element = h("i", { className: "swatch" });
  element.style.background = color;
  return element;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
}

/**
 * Aligns the series on one x array (seconds, as uPlot takes them). A series' gap longer than
 * 2.5 of its usual spacing (and longer than two steps) gets a `null`, which breaks the line;
 * missing x of other series are `undefined`, which uPlot draws across.
 */
export function alignSeries(series: ChartSeries[], stepMs: number): uPlot.AlignedData {
  const xs = new Set<number>();
  const breaks: number[][] = [];
  for (const one of series) {
    for (const t of one.times) xs.add(t);
    const deltas: number[] = [];
    for (let i = 1; i < one.times.length; i++) deltas.push(one.times[i] - one.times[i - 1]);
    deltas.sort((a, b) => a - b);
    const usual = deltas.length ? deltas[Math.floor(deltas.length / 2)] : stepMs;
    const gapMs = Math.max(2.5 * usual, 2 * stepMs);
    const own: number[] = [];
    for (let i = 1; i < one.times.length; i++) {
      if (one.times[i] - one.times[i - 1] > gapMs) {
        const at = one.times[i - 1] + Math.round(usual);
        own.push(at);
        xs.add(at);
      }
    }
    breaks.push(own);
  }
  const sorted = [...xs].sort((a, b) => a - b);
  const index = new Map(sorted.map((t, i) => [t, i]));
  const data: (number | null | undefined)[][] = [sorted.map((t) => t / 1000)];
  series.forEach((one, s) => {
    const ys: (number | null | undefined)[] = new Array(sorted.length).fill(undefined);
    for (const t of breaks[s]) ys[index.get(t)!] = null;
    one.times.forEach((t, i) => ys[index.get(t)!] = one.values[i]);
    data.push(ys);
  });
  return data as uPlot.AlignedData;
}

export interface ChartCardOptions {
  id: string;
  title: string;
  unit: string;
  /** Fixed y range, e.g. [0, 100] for percent. */
  yRange?: [number, number];
  /** Extra controls in the card's header (e.g. the per-core toggle). */
  controls?: HTMLElement[];
  /** Called with the dragged-over range (epoch ms). */
  onZoom?: (fromMs: number, toMs: number) => void;
}

export class ChartCard {
  readonly element: HTMLElement;
  readonly #options: ChartCardOptions;
  readonly #legend: HTMLElement;
  readonly #plotArea: HTMLElement;
  readonly #note: HTMLElement;
  readonly #tooltip: HTMLElement;
  #plot: uPlot | undefined;
  #data: ChartData | undefined;
  #resize: ResizeObserver;
  #hovered = false;

  constructor(options: ChartCardOptions) {
    this.#options = options;
    this.#legend = h("ul", { className: "legend" });
    this.#plotArea = h("div", { className: "plot" });
    this.#note = h("p", { className: "chart-note", role: "status" });
    this.#tooltip = h("div", { className: "tooltip", hidden: true });
    this.element = h(
      "section",
      { className: "card chart", "data-chart": options.id, id: `chart-${options.id}` },
      h("header", {}, h("h3", {}, options.title), ...(options.controls ?? [])),
      this.#legend,
      this.#plotArea,
      this.#note,
    );
    this.#resize = new ResizeObserver(() => {
      if (this.#plot) this.#plot.setSize(this.#size());
    });
    this.#resize.observe(this.#plotArea);
  }

  #size() {
    return { width: Math.max(200, this.#plotArea.clientWidth), height: 180 };
  }

  /** Draws `data`; keeps the uPlot instance when the series are the same, so refreshes are cheap. */
  update(data: ChartData): void {
    this.#data = data;
    const drawable = data.series.filter((one) => one.times.length > 0);
    const pointCount = drawable.reduce((max, one) => Math.max(max, one.times.length), 0);
    this.element.dataset.points = String(pointCount);
    this.element.dataset.series = String(drawable.length);
    let note = "";
    if (data.series.length === 0) note = data.noSeriesText;
    else if (pointCount === 0) note = "No data in this range.";
    else if (pointCount === 1) note = "Waiting for data: the line starts at the second sample.";
    this.#note.textContent = note;
    this.element.classList.toggle("empty", pointCount === 0);
    if (pointCount === 0) {
      this.#destroyPlot();
      replace(this.#plotArea, h("div", { className: "plot-empty" }, note));
      this.#renderLegend(null);
      return;
    }
    const aligned = alignSeries(drawable, data.stepMs);
    const labels = drawable.map((one) => one.label + (one.strong ? "!" : "")).join("\n");
    if (this.#plot && this.#plot.series.length - 1 === drawable.length && this.#labels === labels) {
      this.#plot.setData(aligned, false);
      this.#plot.setScale("x", { min: data.fromMs / 1000, max: data.toMs / 1000 });
    } else {
      this.#destroyPlot();
      replace(this.#plotArea);
      this.#labels = labels;
      this.#plot = new uPlot(this.#plotOptions(drawable, data), aligned, this.#plotArea);
      this.#plot.over.appendChild(this.#tooltip);
      this.#plot.over.addEventListener("mouseenter", () => this.#hovered = true);
      this.#plot.over.addEventListener("mouseleave", () => {
        this.#hovered = false;
        this.#tooltip.hidden = true;
      });
    }
    this.#renderLegend(null);
  }

  #labels = "";

  #plotOptions(series: ChartSeries[], data: ChartData): uPlot.Options {
    const unit = this.#options.unit;
    const ink = cssVar("--muted");
    const grid = cssVar("--line");
    const yRange = this.#options.yRange;
    return {
      ...this.#size(),
      legend: { show: false },
      cursor: {
        sync: { key: SYNC_KEY, setSeries: false },
        drag: { x: true, y: false, setScale: false },
        points: { size: 6 },
      },
      scales: {
        x: { time: true, range: () => [data.fromMs / 1000, data.toMs / 1000] },
        y: {
          range: (_u, min, max) => {
            // A little room under zero, so a line of zeros is not half hidden by the edge.
            const top = yRange
              ? Math.max(yRange[1], max ?? 0)
              : max === null || max <= 0
              ? 1
              : max * 1.1;
            const bottom = Math.min(yRange?.[0] ?? 0, min ?? 0);
            return [bottom - (top - bottom) * 0.03, top];
          },
        },
      },
      axes: [
        { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
        {
          stroke: ink,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid },
          // Wide enough for the longest label, so "1500 ops/s" is not cut to "500 ops/s".
          size: (_u, values) =>
            values ? 16 + 7 * Math.max(3, ...values.map((v) => String(v).length)) : 50,
          values: (_u, splits) => splits.map((v) => formatValue(v, unit)),
        },
      ],
      series: [
        {},
        ...series.map((one, i) => ({
          label: one.label,
          stroke: PALETTE[i % PALETTE.length],
          width: one.strong ? 2.5 : 1.5,
          points: { show: one.times.length < 3, size: 5 },
          spanGaps: false,
        })),
      ],
      hooks: {
        setCursor: [(u) => this.#onCursor(u)],
        setSelect: [(u) => this.#onSelect(u)],
      },
    };
  }

  #onCursor(u: uPlot): void {
    const index = u.cursor.idx;
    this.#renderLegend(index ?? null);
    if (!this.#hovered || index === null || index === undefined) {
      this.#tooltip.hidden = true;
      return;
    }
    const x = u.data[0][index];
    const rows = u.series.slice(1).map((one, s) => {
      const value = u.data[s + 1][index];
      return h(
        "div",
        {},
        swatch(PALETTE[s % PALETTE.length]),
        `${one.label}: `,
        h("b", {}, formatValue(value ?? null, this.#options.unit)),
      );
    });
    replace(this.#tooltip, h("div", { className: "when" }, formatTime(x * 1000)), rows);
    this.#tooltip.hidden = false;
    const left = u.cursor.left ?? 0;
    const width = u.over.clientWidth;
    this.#tooltip.style.left = `${
      left > width / 2 ? left - this.#tooltip.offsetWidth - 12 : left + 12
    }px`;
    this.#tooltip.style.top = `${Math.max(0, (u.cursor.top ?? 0) - 20)}px`;
  }

  #onSelect(u: uPlot): void {
    const { left, width } = u.select;
    if (width < 5 || !this.#options.onZoom) return;
    const fromMs = Math.round(u.posToVal(left, "x") * 1000);
    const toMs = Math.round(u.posToVal(left + width, "x") * 1000);
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    this.#options.onZoom(fromMs, toMs);
  }

  /** Legend values: at the cursor, or the newest of each series. */
  #renderLegend(index: number | null): void {
    const data = this.#data;
    const plot = this.#plot;
    if (!data) return;
    const drawable = data.series.filter((one) => one.times.length > 0);
    replace(
      this.#legend,
      drawable.map((one, s) => {
        let value: number | null | undefined = one.values.at(-1);
        if (index !== null && plot) value = plot.data[s + 1]?.[index];
        return h(
          "li",
          {},
          swatch(PALETTE[s % PALETTE.length]),
          h("span", { className: "name" }, one.label),
          " ",
          h("span", { className: "value" }, formatValue(value ?? null, this.#options.unit)),
        );
      }),
    );
  }

  #destroyPlot(): void {
    this.#plot?.destroy();
    this.#plot = undefined;
    this.#labels = "";
  }

  destroy(): void {
    this.#resize.disconnect();
    this.#destroyPlot();
  }
}
