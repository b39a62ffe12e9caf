/** Test support for the Prometheus modules: building Remote-Write bodies. */
import {
  encodeLabels,
  encodeTimeSeries,
  ProtoWriter,
  REMOTE_WRITE_HEADERS,
  snappyCompress,
} from "../../server/prometheus/remote_write_codec.ts";

export interface TestSeries {
  labels: Record<string, string>;
  /** `"stale"`: Prometheus' stale marker, written bit for bit. */
  samples: [number, number | "stale"][];
}

/** Stands in for a stale marker until the bytes are patched (JS may not keep NaN bits). */
const STALE_PLACEHOLDER = -1.2345678901234567e-300;

/** A snappy-compressed WriteRequest of these series (labels sorted as the spec asks). */
export function writeRequestBody(series: readonly TestSeries[]): Uint8Array<ArrayBuffer> {
  const out = new ProtoWriter();
  for (const { labels, samples } of series) {
    const sorted = Object.entries(labels).sort((a, b) => (a[0] < b[0] ? -1 : 1));
    encodeTimeSeries(out, {
      labels: encodeLabels(sorted),
      timestamps: samples.map(([ts]) => ts),
      values: samples.map(([, value]) => value === "stale" ? STALE_PLACEHOLDER : value),
    });
  }
  const bytes = out.finish();
  const placeholder = new Uint8Array(new Float64Array([STALE_PLACEHOLDER]).buffer);
  const stale = [2, 0, 0, 0, 0, 0, 0xf0, 0x7f];
  for (let i = 0; i + 8 <= bytes.length; i++) {
    if (placeholder.every((byte, j) => bytes[i + j] === byte)) bytes.set(stale, i);
  }
  return snappyCompress(bytes);
}

export function writeRequest(
  url: string,
  series: readonly TestSeries[],
  headers: Record<string, string> = {},
): Request {
  return new Request(url, {
    method: "POST",
    headers: { ...REMOTE_WRITE_HEADERS, ...headers },
    body: writeRequestBody(series),
  });
}
