/**
 * Evaluates a parsed PromQL expression over a range of steps, as Prometheus 2.42 does: an
 * instant selector takes the newest sample within the lookback delta at or before each step; a
 * range function sees the samples in `[t - range, t]`; `rate`/`increase` extrapolate to the
 * window as Prometheus' `extrapolatedRate` does. Aggregations over time that only need
 * count/min/max/sum (`*_over_time` but `last_over_time`) read storage's sample blocks, so a
 * window that covers a sealed chunk uses its statistics instead of decoding it.
 */
import { CompensatedSum } from "../../storage/compensated_sum.ts";
import type { SampleBlock } from "../../storage/types.ts";
import type { Aggregation, BinaryOp, Expr, Matcher, RangeFunction } from "./parse.ts";
import { PromQLError, typeOf } from "./parse.ts";
import { type PromLabels, PromQLExecutionError, type StoreSource } from "./source.ts";

export interface StepSeries {
  labels: PromLabels;
  values: Float64Array;
  /** 1 where the series has a value at that step. */
  present: Uint8Array;
}

export type StepValue =
  | { type: "scalar"; values: Float64Array }
  | { type: "vector"; series: StepSeries[] };

export interface RawMatrixSeries {
  labels: PromLabels;
  timestamps: number[];
  values: number[];
}

export interface EvalOptions {
  /** Evaluation timestamps, ascending, epoch ms. */
  times: readonly number[];
  lookbackDeltaMs: number;
  maxSamples: number;
}

const OVER_TIME_BY_STATS = new Set<RangeFunction>([
  "avg_over_time",
  "min_over_time",
  "max_over_time",
  "sum_over_time",
  "count_over_time",
]);

function labelsKey(labels: PromLabels): string {
  return Object.keys(labels).sort().map((name) => `${name}\u0000${labels[name]}`).join("\u0001");
}

function withoutName(labels: PromLabels): PromLabels {
  const { __name__: _, ...rest } = labels;
  return rest;
}

/** Prometheus' `extrapolatedRate` (promql/functions.go, v2.42) for floats. */
function extrapolatedRate(
  ts: readonly number[],
  vs: readonly number[],
  lo: number,
  hi: number,
  rangeStartMs: number,
  rangeEndMs: number,
  rangeMs: number,
  isRate: boolean,
): number | undefined {
  const count = hi - lo + 1;
  if (count < 2) return undefined;
  let result = vs[hi] - vs[lo];
  let previous = vs[lo];
  for (let i = lo + 1; i <= hi; i++) {
    if (vs[i] < previous) result += previous;
    previous = vs[i];
  }
  let durationToStart = (ts[lo] - rangeStartMs) / 1000;
  const durationToEnd = (rangeEndMs - ts[hi]) / 1000;
  const sampledInterval = (ts[hi] - ts[lo]) / 1000;
  const averageDurationBetweenSamples = sampledInterval / (count - 1);
  if (result > 0 && vs[lo] >= 0) {
    const durationToZero = sampledInterval * (vs[lo] / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const extrapolationThreshold = averageDurationBetweenSamples * 1.1;
  let extrapolateToInterval = sampledInterval;
  extrapolateToInterval += durationToStart < extrapolationThreshold
    ? durationToStart
    : averageDurationBetweenSamples / 2;
  extrapolateToInterval += durationToEnd < extrapolationThreshold
    ? durationToEnd
    : averageDurationBetweenSamples / 2;
  let factor = extrapolateToInterval / sampledInterval;
  if (isRate) factor /= rangeMs / 1000;
  return result * factor;
}

/** Prometheus' `instantValue` (irate) for floats. */
function instantRate(ts: readonly number[], vs: readonly number[], lo: number, hi: number) {
  if (hi - lo + 1 < 2) return undefined;
  const last = vs[hi];
  const previous = vs[hi - 1];
  const result = last < previous ? last : last - previous;
  const interval = ts[hi] - ts[hi - 1];
  if (interval === 0) return undefined;
  return result / (interval / 1000);
}

export class Evaluator {
  readonly #source: StoreSource;
  readonly #options: EvalOptions;
  readonly #steps: number;

  constructor(source: StoreSource, options: EvalOptions) {
    this.#source = source;
    this.#options = options;
    this.#steps = options.times.length;
  }

  evaluate(expr: Expr): StepValue {
    switch (expr.kind) {
      case "number":
        return { type: "scalar", values: new Float64Array(this.#steps).fill(expr.value) };
      case "selector":
        return { type: "vector", series: this.#instant(expr.matchers) };
      case "call":
        return {
          type: "vector",
          series: this.#rangeFunction(expr.func, expr.arg.matchers, expr.rangeMs),
        };
      case "aggregate":
        return { type: "vector", series: this.#aggregate(expr) };
      case "binary":
        return this.#binary(expr.op, expr.bool, expr.lhs, expr.rhs);
      case "negate": {
        const inner = this.evaluate(expr.expr);
        if (inner.type === "scalar") return { type: "scalar", values: inner.values.map((v) => -v) };
        return {
          type: "vector",
          series: checkUnique(inner.series.map((s) => ({
            labels: withoutName(s.labels),
            values: s.values.map((v) => -v),
            present: s.present,
          }))),
        };
      }
      case "matrix":
        throw new PromQLError(
          'invalid expression type "range vector" for range query, must be Scalar or instant Vector',
        );
    }
  }

  /** The raw samples of a top-level range selector at one instant (`/query` only). */
  matrix(expr: Extract<Expr, { kind: "matrix" }>, atMs: number): RawMatrixSeries[] {
    const selected = this.#source.select(expr.selector.matchers);
    const data = this.#source.raw(selected, atMs - expr.rangeMs, atMs);
    return selected.map((s, i) => ({ labels: s.labels, ...data[i] }))
      .filter((s) => s.timestamps.length > 0);
  }

  #instant(matchers: readonly Matcher[]): StepSeries[] {
    const { times, lookbackDeltaMs } = this.#options;
    const selected = this.#source.select(matchers);
    const data = this.#source.raw(selected, times[0] - lookbackDeltaMs, times[times.length - 1]);
    const out: StepSeries[] = [];
    selected.forEach((series, index) => {
      const { timestamps, values } = data[index];
      if (timestamps.length === 0) return;
      const result = this.#emptySeries(series.labels);
      let next = 0;
      for (let step = 0; step < this.#steps; step++) {
        const t = times[step];
        while (next < timestamps.length && timestamps[next] <= t) next++;
        const last = next - 1;
        if (last >= 0 && timestamps[last] >= t - lookbackDeltaMs) {
          result.values[step] = values[last];
          result.present[step] = 1;
        }
      }
      out.push(result);
    });
    return out.filter(hasValues);
  }

  #emptySeries(labels: PromLabels): StepSeries {
    return {
      labels,
      values: new Float64Array(this.#steps),
      present: new Uint8Array(this.#steps),
    };
  }

  #rangeFunction(func: RangeFunction, matchers: readonly Matcher[], rangeMs: number): StepSeries[] {
    const { times } = this.#options;
    const selected = this.#source.select(matchers);
    const fromMs = times[0] - rangeMs;
    const toMs = times[times.length - 1];
    const keepName = func === "last_over_time";
    const out: StepSeries[] = [];
    if (OVER_TIME_BY_STATS.has(func)) {
      const blocks = this.#source.blocks(selected, fromMs, toMs);
      selected.forEach((series, index) => {
        const result = this.#emptySeries(keepName ? series.labels : withoutName(series.labels));
        this.#overTimeFromBlocks(func, blocks[index], rangeMs, result);
        out.push(result);
      });
    } else {
      const data = this.#source.raw(selected, fromMs, toMs);
      selected.forEach((series, index) => {
        const result = this.#emptySeries(keepName ? series.labels : withoutName(series.labels));
        const { timestamps, values } = data[index];
        let lo = 0;
        let hi = -1;
        for (let step = 0; step < this.#steps; step++) {
          const t = times[step];
          while (lo < timestamps.length && timestamps[lo] < t - rangeMs) lo++;
          while (hi + 1 < timestamps.length && timestamps[hi + 1] <= t) hi++;
          if (hi < lo) continue;
          let value: number | undefined;
          switch (func) {
            case "rate":
            case "increase":
              value = extrapolatedRate(
                timestamps,
                values,
                lo,
                hi,
                t - rangeMs,
                t,
                rangeMs,
                func === "rate",
              );
              break;
            case "irate":
              value = instantRate(timestamps, values, lo, hi);
              break;
            case "last_over_time":
              value = values[hi];
              break;
          }
          if (value === undefined) continue;
          result.values[step] = value;
          result.present[step] = 1;
        }
        out.push(result);
      });
    }
    return checkUnique(out.filter(hasValues));
  }

  /** count/min/max/sum/avg over `[t - range, t]`, whole blocks from their statistics. */
  #overTimeFromBlocks(
    func: RangeFunction,
    blocks: readonly SampleBlock[],
    rangeMs: number,
    result: StepSeries,
  ): void {
    const { times } = this.#options;
    let first = 0;
    for (let step = 0; step < this.#steps; step++) {
      const t = times[step];
      const from = t - rangeMs;
      while (first < blocks.length && blocks[first].endTs < from) first++;
      let count = 0;
      let min = Infinity;
      let max = -Infinity;
      const sum = new CompensatedSum();
      for (let i = first; i < blocks.length && blocks[i].startTs <= t; i++) {
        const block = blocks[i];
        if (block.startTs >= from && block.endTs <= t) {
          count += block.count;
          if (block.min < min) min = block.min;
          if (block.max > max) max = block.max;
          sum.add(block.sum);
          continue;
        }
        const { timestamps, values } = block.samples();
        for (let j = 0; j < timestamps.length; j++) {
          const ts = timestamps[j];
          if (ts < from) continue;
          if (ts > t) break;
          const value = values[j];
          count++;
          if (value < min) min = value;
          if (value > max) max = value;
          sum.add(value);
        }
      }
      if (count === 0) continue;
      result.present[step] = 1;
      result.values[step] = func === "count_over_time"
        ? count
        : func === "min_over_time"
        ? min
        : func === "max_over_time"
        ? max
        : func === "sum_over_time"
        ? sum.value
        : sum.value / count;
    }
  }

  #aggregate(expr: Extract<Expr, { kind: "aggregate" }>): StepSeries[] {
    const inner = this.evaluate(expr.expr);
    if (inner.type !== "vector") throw new PromQLError("expected an instant vector to aggregate");
    const groups = new Map<string, { labels: PromLabels; members: StepSeries[] }>();
    for (const series of inner.series) {
      const labels = groupLabels(series.labels, expr.grouping);
      const key = labelsKey(labels);
      let group = groups.get(key);
      if (!group) groups.set(key, group = { labels, members: [] });
      group.members.push(series);
    }
    const out: StepSeries[] = [];
    for (const { labels, members } of groups.values()) {
      const result = this.#emptySeries(labels);
      for (let step = 0; step < this.#steps; step++) {
        const value = aggregateStep(expr.op, members, step);
        if (value === undefined) continue;
        result.values[step] = value;
        result.present[step] = 1;
      }
      out.push(result);
    }
    return out.filter(hasValues);
  }

  #binary(op: BinaryOp, bool: boolean, lhsExpr: Expr, rhsExpr: Expr): StepValue {
    const lhs = this.evaluate(lhsExpr);
    const rhs = this.evaluate(rhsExpr);
    if (lhs.type === "scalar" && rhs.type === "scalar") {
      const values = new Float64Array(this.#steps);
      for (let i = 0; i < this.#steps; i++) {
        const [value] = binaryValue(op, lhs.values[i], rhs.values[i]);
        values[i] = value;
      }
      return { type: "scalar", values };
    }
    const vectorOnLeft = lhs.type === "vector";
    const vector = (vectorOnLeft ? lhs : rhs) as Extract<StepValue, { type: "vector" }>;
    const scalar = (vectorOnLeft ? rhs : lhs) as Extract<StepValue, { type: "scalar" }>;
    const comparison = isComparison(op);
    const dropName = !comparison || bool;
    const out: StepSeries[] = [];
    for (const series of vector.series) {
      const result = this.#emptySeries(dropName ? withoutName(series.labels) : series.labels);
      for (let step = 0; step < this.#steps; step++) {
        if (!series.present[step]) continue;
        const element = series.values[step];
        const [left, right] = vectorOnLeft
          ? [element, scalar.values[step]]
          : [scalar.values[step], element];
        const [value, keep] = binaryValue(op, left, right);
        if (comparison) {
          if (bool) {
            result.values[step] = keep ? 1 : 0;
            result.present[step] = 1;
          } else if (keep) {
            // A comparison filters: the vector element keeps its value on either side.
            result.values[step] = element;
            result.present[step] = 1;
          }
        } else {
          result.values[step] = value;
          result.present[step] = 1;
        }
      }
      out.push(result);
    }
    return { type: "vector", series: checkUnique(out.filter(hasValues)) };
  }
}

function isComparison(op: BinaryOp): boolean {
  return op === "==" || op === "!=" || op === ">" || op === "<" || op === ">=" || op === "<=";
}

/** Value and, for comparisons, whether it holds (Prometheus' `vectorElemBinop`). */
function binaryValue(op: BinaryOp, left: number, right: number): [number, boolean] {
  switch (op) {
    case "+":
      return [left + right, true];
    case "-":
      return [left - right, true];
    case "*":
      return [left * right, true];
    case "/":
      return [left / right, true];
    case "%":
      return [left % right, true];
    case "^":
      return [Math.pow(left, right), true];
    case "==":
      return [left === right ? 1 : 0, left === right];
    case "!=":
      return [left !== right ? 1 : 0, left !== right];
    case ">":
      return [left > right ? 1 : 0, left > right];
    case "<":
      return [left < right ? 1 : 0, left < right];
    case ">=":
      return [left >= right ? 1 : 0, left >= right];
    case "<=":
      return [left <= right ? 1 : 0, left <= right];
  }
}

function groupLabels(
  labels: PromLabels,
  grouping: { without: boolean; labels: string[] } | undefined,
): PromLabels {
  if (!grouping) return {};
  const out: PromLabels = {};
  if (grouping.without) {
    const drop = new Set([...grouping.labels, "__name__"]);
    for (const name in labels) if (!drop.has(name)) out[name] = labels[name];
  } else {
    for (const name of grouping.labels) {
      if (name in labels && labels[name] !== "") out[name] = labels[name];
    }
  }
  return out;
}

/** One step of an aggregation, as Prometheus 2.42 computes it; undefined when no member has a value. */
function aggregateStep(op: Aggregation, members: readonly StepSeries[], step: number) {
  let count = 0;
  let value = 0;
  let mean = 0;
  for (const member of members) {
    if (!member.present[step]) continue;
    const v = member.values[step];
    count++;
    if (count === 1) {
      value = v;
      mean = v;
      continue;
    }
    switch (op) {
      case "sum":
        value += v;
        break;
      case "avg":
        mean += v / count - mean / count;
        break;
      case "min":
        if (value > v || Number.isNaN(value)) value = v;
        break;
      case "max":
        if (value < v || Number.isNaN(value)) value = v;
        break;
    }
  }
  if (count === 0) return undefined;
  if (op === "count") return count;
  return op === "avg" ? mean : value;
}

function hasValues(series: StepSeries): boolean {
  return series.present.some((flag) => flag === 1);
}

/** Prometheus refuses a result where two series end up with the same labels at one step. */
function checkUnique(series: StepSeries[]): StepSeries[] {
  const seen = new Map<string, StepSeries>();
  for (const s of series) {
    const key = labelsKey(s.labels);
    const other = seen.get(key);
    if (other) {
      if (s.present.some((flag, i) => flag === 1 && other.present[i] === 1)) {
        throw new PromQLExecutionError("vector cannot contain metrics with the same labelset");
      }
      for (let i = 0; i < s.present.length; i++) {
        if (s.present[i]) {
          other.present[i] = 1;
          other.values[i] = s.values[i];
        }
      }
      continue;
    }
    seen.set(key, s);
  }
  return [...seen.values()];
}

export { typeOf };
