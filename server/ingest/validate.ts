/**
 * Validation of a decoded `MetricBatchProto` before anything of it is stored. A batch is accepted
 * whole or refused whole: the first problem found throws a `BatchValidationError` whose message
 * names the field (`data_points[3].value: expected a finite number, got NaN`).
 *
 * Decisions a caller should know:
 * - proto3 cannot tell an empty string from an absent one, so a point with an empty `agent_id`
 *   belongs to the batch's agent (the original oxmon agent fills it on every point; other
 *   clients may leave it out). A non-empty one must equal the batch's.
 * - Label names starting with `__` are reserved (as in Prometheus); this also keeps `__proto__`
 *   out of every labels object downstream.
 * - Control characters (U+0000–U+001F, U+007F–U+009F) are refused in agent ids, metric names,
 *   label names and label values: the alert engine builds series keys with U+001F and U+001E as
 *   separators, log lines and the dashboard show them, and none belongs in a name or a value.
 * - Timestamps must lie within the retention period (older ones would land in a partition that
 *   retention deletes anyway) and at most `maxFutureSecs` ahead of the server clock.
 */
import { MS_PER_DAY, toRfc3339 } from "../../shared/time.ts";
import type { MetricBatchMessage, SystemInfoMessage } from "../../shared/wire/mod.ts";
import type { Labels, MetricBatch, MetricDataPoint, SystemInfo } from "../../shared/types.ts";
import type { IngestLimits } from "../config.ts";

/** Thrown for a batch that must be refused; `field` is the protobuf path of the problem. */
export class BatchValidationError extends Error {
  readonly field: string;
  constructor(field: string, problem: string, options?: ErrorOptions) {
    super(`${field}: ${problem}`, options);
    this.name = "BatchValidationError";
    this.field = field;
  }
}

const AGENT_ID = /^[A-Za-z0-9._:-]+$/;
const METRIC_NAME = /^[a-zA-Z_][a-zA-Z0-9_.:-]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/**
 * Names that already passed their pattern. Agents send the same few hundred names in every
 * batch, so a set lookup replaces most regex runs on the hot path; bounded against abuse.
 */
const validMetricNames = new Set<string>();
const validLabelNames = new Set<string>();
const MAX_CACHED_NAMES = 10_000;

function remember(cache: Set<string>, name: string): void {
  if (cache.size >= MAX_CACHED_NAMES) cache.clear();
  cache.add(name);
}

/** Offset of the first C0 or C1 control character or DEL in `text`; -1 when there is none. */
function controlCharacterAt(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return i;
  }
  return -1;
}

/** The refusal of `text` (of `field`) for its control character at `offset`. */
function controlCharacter(field: string, text: string, offset: number): BatchValidationError {
  const hex = text.charCodeAt(offset).toString(16).toUpperCase().padStart(4, "0");
  return new BatchValidationError(field, `control character U+${hex} at offset ${offset}`);
}

/** The refusal of a batch of `points` points when at most `maxPoints` are allowed. */
export function tooManyPoints(points: number, maxPoints: number): BatchValidationError {
  return new BatchValidationError("data_points", `${points} points, at most ${maxPoints} allowed`);
}

/** Bound for the free-text system info fields (host name, OS, kernel…). */
const MAX_SYSTEM_INFO_TEXT = 256;

/** A value quoted for an error message, cut short so a huge input cannot bloat the reply. */
function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? value.slice(0, 64) + "…" : value);
}

function checkAgentId(agentId: unknown, limits: IngestLimits): string {
  if (typeof agentId !== "string" || agentId === "") {
    throw new BatchValidationError("agent_id", "expected a non-empty agent id, got none");
  }
  if (agentId.length > limits.maxAgentIdLength) {
    throw new BatchValidationError(
      "agent_id",
      `${agentId.length} characters, at most ${limits.maxAgentIdLength} allowed`,
    );
  }
  const control = controlCharacterAt(agentId);
  if (control >= 0) throw controlCharacter("agent_id", agentId, control);
  if (!AGENT_ID.test(agentId)) {
    throw new BatchValidationError(
      "agent_id",
      `${quote(agentId)} may contain only letters, digits, ".", "_", "-" and ":"`,
    );
  }
  return agentId;
}

/** Field name of label `name` of point `index`, built only for an error message. */
function labelField(index: number, name?: string): string {
  const field = `data_points[${index}].labels`;
  return name === undefined ? field : `${field}[${quote(name)}]`;
}

function checkLabels(raw: unknown, index: number, limits: IngestLimits): Labels {
  if (raw == null) return {};
  const labels = raw as Record<string, unknown>;
  // Counted and walked with for…in (own names only, as Object.keys gives them): this runs for
  // every point, and neither a names array nor a field name is allocated unless one is wrong.
  let count = 0;
  for (const name in labels) if (Object.hasOwn(labels, name)) count++;
  if (count === 0) return {};
  if (count > limits.maxLabelsPerPoint) {
    throw new BatchValidationError(
      labelField(index),
      `${count} labels, at most ${limits.maxLabelsPerPoint} allowed`,
    );
  }
  for (const name in labels) {
    if (!Object.hasOwn(labels, name)) continue;
    if (name.length > limits.maxLabelNameLength) {
      throw new BatchValidationError(
        labelField(index, name),
        `label name of ${name.length} characters, at most ${limits.maxLabelNameLength} allowed`,
      );
    }
    if (!validLabelNames.has(name)) {
      const control = controlCharacterAt(name);
      if (control >= 0) throw controlCharacter(labelField(index, name), name, control);
      if (!LABEL_NAME.test(name) || name.startsWith("__")) {
        throw new BatchValidationError(
          labelField(index, name),
          "invalid label name (expected [a-zA-Z_][a-zA-Z0-9_]*, not starting with __)",
        );
      }
      remember(validLabelNames, name);
    }
    const value = labels[name];
    if (typeof value !== "string") {
      throw new BatchValidationError(labelField(index, name), "expected a string value");
    }
    if (value.length > limits.maxLabelValueLength) {
      throw new BatchValidationError(
        labelField(index, name),
        `value of ${value.length} characters, at most ${limits.maxLabelValueLength} allowed`,
      );
    }
    const control = controlCharacterAt(value);
    if (control >= 0) throw controlCharacter(labelField(index, name), value, control);
  }
  return labels as Labels;
}

function checkSystemInfo(raw: SystemInfoMessage): SystemInfo {
  const text = (name: string, value: unknown): string => {
    const field = `system_info.${name}`;
    if (value == null) return "";
    if (typeof value !== "string") throw new BatchValidationError(field, "expected a string");
    if (value.length > MAX_SYSTEM_INFO_TEXT) {
      throw new BatchValidationError(
        field,
        `${value.length} characters, at most ${MAX_SYSTEM_INFO_TEXT} allowed`,
      );
    }
    return value;
  };
  const amount = (name: string, value: unknown, integer: boolean): number => {
    if (value == null) return 0;
    const ok = typeof value === "number" && Number.isFinite(value) && value >= 0 &&
      (!integer || Number.isInteger(value));
    if (!ok) {
      throw new BatchValidationError(
        `system_info.${name}`,
        `expected a non-negative ${integer ? "integer" : "number"}, got ${String(value)}`,
      );
    }
    return value as number;
  };
  return {
    hostname: text("hostname", raw.hostname),
    os: text("os", raw.os),
    osVersion: text("os_version", raw.osVersion),
    arch: text("arch", raw.arch),
    kernelVersion: text("kernel_version", raw.kernelVersion),
    cpuCores: amount("cpu_cores", raw.cpuCores, true),
    memoryGb: amount("memory_gb", raw.memoryGb, false),
    diskGb: amount("disk_gb", raw.diskGb, false),
  };
}

export interface ValidateBatchOptions {
  /**
   * Turn the decoded points themselves into the batch's points (and its `data_points` array
   * into the batch's), instead of copying each: for a batch the caller decoded and drops, one
   * object fewer per point on the ingest path. A point is changed only once it passed its
   * checks; after a refusal, what was decoded is partly changed. Default: false.
   */
  inPlace?: boolean;
}

/**
 * Checks a decoded batch against the ingest limits and returns it as plain `MetricBatch` data
 * (every point carrying the batch's agent id). Throws `BatchValidationError` on the first problem.
 */
export function validateBatch(
  decoded: MetricBatchMessage,
  limits: IngestLimits,
  nowMs: number,
  retentionDays: number,
  options: ValidateBatchOptions = {},
): MetricBatch {
  const agentId = checkAgentId(decoded.agentId, limits);
  const rawPoints = decoded.dataPoints ?? [];
  if (rawPoints.length === 0) {
    throw new BatchValidationError("data_points", "the batch has no data points");
  }
  if (rawPoints.length > limits.maxPointsPerBatch) {
    throw tooManyPoints(rawPoints.length, limits.maxPointsPerBatch);
  }
  const newestMs = nowMs + limits.maxFutureSecs * 1000;
  const oldestMs = nowMs - retentionDays * MS_PER_DAY;
  const maxMetricNameLength = limits.maxMetricNameLength;
  const inPlace = options.inPlace ?? false;
  const dataPoints = inPlace
    ? rawPoints as unknown as MetricDataPoint[]
    : new Array<MetricDataPoint>(rawPoints.length);
  for (let i = 0; i < rawPoints.length; i++) {
    const raw = rawPoints[i];
    const pointAgent = raw.agentId;
    if (pointAgent != null && pointAgent !== "" && pointAgent !== agentId) {
      const control = controlCharacterAt(pointAgent);
      if (control >= 0) throw controlCharacter(`data_points[${i}].agent_id`, pointAgent, control);
      throw new BatchValidationError(
        `data_points[${i}].agent_id`,
        `${quote(String(pointAgent))} differs from the batch's agent_id ${quote(agentId)}`,
      );
    }
    const metricName = raw.metricName;
    if (typeof metricName !== "string" || metricName === "") {
      throw new BatchValidationError(`data_points[${i}].metric_name`, "missing");
    }
    if (metricName.length > maxMetricNameLength) {
      throw new BatchValidationError(
        `data_points[${i}].metric_name`,
        `${metricName.length} characters, at most ${maxMetricNameLength} allowed`,
      );
    }
    if (!validMetricNames.has(metricName)) {
      const control = controlCharacterAt(metricName);
      if (control >= 0) {
        throw controlCharacter(`data_points[${i}].metric_name`, metricName, control);
      }
      if (!METRIC_NAME.test(metricName)) {
        throw new BatchValidationError(
          `data_points[${i}].metric_name`,
          `${quote(metricName)} is not a valid metric name (expected [a-zA-Z_][a-zA-Z0-9_.:-]*)`,
        );
      }
      remember(validMetricNames, metricName);
    }
    const value = raw.value ?? 0;
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new BatchValidationError(
        `data_points[${i}].value`,
        `expected a finite number, got ${String(value)}`,
      );
    }
    const timestampMs = raw.timestampMs ?? 0;
    if (typeof timestampMs !== "number" || !Number.isSafeInteger(timestampMs)) {
      throw new BatchValidationError(
        `data_points[${i}].timestamp_ms`,
        `expected an integer number of milliseconds, got ${String(timestampMs)}`,
      );
    }
    if (timestampMs > newestMs) {
      throw new BatchValidationError(
        `data_points[${i}].timestamp_ms`,
        `${timestampMs} is ${Math.round((timestampMs - nowMs) / 1000)} s ahead of the server ` +
          `clock (${toRfc3339(nowMs)}), at most ${limits.maxFutureSecs} s allowed`,
      );
    }
    if (timestampMs < oldestMs) {
      throw new BatchValidationError(
        `data_points[${i}].timestamp_ms`,
        `${timestampMs} is older than the retention period of ${retentionDays} days`,
      );
    }
    const labels = checkLabels(raw.labels, i, limits);
    if (inPlace) {
      const point = raw as unknown as MetricDataPoint;
      point.timestampMs = timestampMs;
      point.agentId = agentId;
      point.value = value;
      point.labels = labels;
    } else dataPoints[i] = { timestampMs, agentId, metricName, value, labels };
  }
  const batch: MetricBatch = {
    agentId,
    timestampMs: typeof decoded.timestampMs === "number" && decoded.timestampMs > 0
      ? decoded.timestampMs
      : nowMs,
    dataPoints,
  };
  if (decoded.systemInfo != null) batch.systemInfo = checkSystemInfo(decoded.systemInfo);
  return batch;
}
