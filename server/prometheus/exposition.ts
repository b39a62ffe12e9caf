/**
 * The Prometheus text exposition format (0.0.4) and OpenMetrics 1.0 text, chosen by the scraper's
 * `Accept` header as Prometheus' own client libraries do. A family is written with its base name
 * (`oxmon_ingest_samples`); counters get their `_total` suffix on the samples (and, in the 0.0.4
 * format, on the family name too). `promtool check metrics` and a real Prometheus scrape check
 * the output in the tests.
 */

export type MetricType = "counter" | "gauge" | "unknown";

export interface MetricSample {
  labels?: Readonly<Record<string, string>>;
  value: number;
  /** Epoch ms; only for samples that carry their own time (agent series). */
  timestampMs?: number;
}

export interface MetricFamily {
  /** Base name, without `_total` for counters. */
  name: string;
  type: MetricType;
  help: string;
  samples: readonly MetricSample[];
}

export type ExpositionFormat = "prometheus" | "openmetrics";

export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = Object.freeze({
  prometheus: "text/plain; version=0.0.4; charset=utf-8",
  openmetrics: "application/openmetrics-text; version=1.0.0; charset=utf-8",
});

/** OpenMetrics when the `Accept` header asks for it, the 0.0.4 text format otherwise. */
export function negotiateFormat(accept: string | null): ExpositionFormat {
  return accept !== null && /application\/openmetrics-text/i.test(accept)
    ? "openmetrics"
    : "prometheus";
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(text: string, format: ExpositionFormat): string {
  const escaped = text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
  return format === "openmetrics" ? escaped.replace(/"/g, '\\"') : escaped;
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function formatLabels(labels: Readonly<Record<string, string>> | undefined): string {
  if (!labels) return "";
  const names = Object.keys(labels);
  if (names.length === 0) return "";
  return "{" + names.map((name) => `${name}="${escapeLabelValue(labels[name])}"`).join(",") + "}";
}

/** Renders families in order; a family without samples is left out. */
export function renderExposition(
  families: Iterable<MetricFamily>,
  format: ExpositionFormat,
): string {
  const lines: string[] = [];
  const openMetrics = format === "openmetrics";
  for (const family of families) {
    if (family.samples.length === 0) continue;
    const counter = family.type === "counter";
    const familyName = counter && !openMetrics ? family.name + "_total" : family.name;
    const sampleName = counter ? family.name + "_total" : family.name;
    const type = family.type === "unknown" && !openMetrics ? "untyped" : family.type;
    lines.push(`# HELP ${familyName} ${escapeHelp(family.help, format)}`);
    lines.push(`# TYPE ${familyName} ${type}`);
    for (const sample of family.samples) {
      let line = sampleName + formatLabels(sample.labels) + " " + formatValue(sample.value);
      if (sample.timestampMs !== undefined) {
        line += " " +
          (openMetrics ? String(sample.timestampMs / 1000) : String(sample.timestampMs));
      }
      lines.push(line);
    }
  }
  if (openMetrics) lines.push("# EOF");
  return lines.join("\n") + "\n";
}
