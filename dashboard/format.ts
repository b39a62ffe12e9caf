/** Numbers, units and times as the dashboard shows them. */

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

function scaled(value: number, base: number, units: string[]): string {
  let index = 0;
  let scaledValue = Math.abs(value);
  while (scaledValue >= base && index < units.length - 1) {
    scaledValue /= base;
    index++;
  }
  const digits = scaledValue >= 100 || index === 0 ? 0 : scaledValue >= 10 ? 1 : 2;
  return `${value < 0 ? "-" : ""}${scaledValue.toFixed(digits)} ${units[index]}`;
}

export function formatNumber(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude >= 1e6) return scaled(value, 1000, ["", "k", "M", "G", "T"]).trim();
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/**
 * `unit` as in shared/catalog.ts: percent, bytes, bytes/s, ops/s, packets/s, seconds, days,
 * boolean (1 yes, 0 no; a bucket's average is the share of yes) or "".
 */
export function formatValue(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  switch (unit) {
    case "percent":
      return `${value.toFixed(1)} %`;
    case "bytes":
      return scaled(value, 1024, BYTE_UNITS);
    case "bytes/s":
      return `${scaled(value, 1024, BYTE_UNITS)}/s`;
    case "ops/s":
      return `${formatNumber(value)} ops/s`;
    case "packets/s":
      return `${formatNumber(value)} pkt/s`;
    case "seconds":
      return formatDuration(value * 1000);
    case "days":
      return `${Number.isInteger(value) ? value : value.toFixed(1)} ${
        Math.abs(value) === 1 ? "day" : "days"
      }`;
    case "boolean":
      return value === 1 ? "yes" : value === 0 ? "no" : `${(value * 100).toFixed(0)} % yes`;
    default:
      return formatNumber(value);
  }
}

/** `3 d 4 h`, `5 min 2 s`, `800 ms`, `1.4 ms`: the two largest units. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  // A probe of a nearby host takes a millisecond or two: a rounded "1 ms" would hide its changes.
  if (Math.abs(ms) < 10 && ms !== 0) return `${ms.toFixed(Math.abs(ms) < 1 ? 2 : 1)} ms`;
  if (Math.abs(ms) < 1000) return `${Math.round(ms)} ms`;
  const parts: [number, string][] = [
    [86_400_000, "d"],
    [3_600_000, "h"],
    [60_000, "min"],
    [1_000, "s"],
  ];
  let rest = Math.abs(ms);
  const out: string[] = [];
  for (const [size, name] of parts) {
    if (rest >= size || out.length > 0) {
      const count = Math.floor(rest / size);
      rest -= count * size;
      if (count > 0 || out.length > 0) out.push(`${count} ${name}`);
    }
    if (out.length === 2) break;
  }
  return out.filter((part) => !part.startsWith("0 ")).join(" ") || "0 s";
}

/** `12 s ago`, `3 min ago`, `in 2 h`. */
export function formatAgo(ms: number, nowMs: number): string {
  const delta = nowMs - ms;
  if (Math.abs(delta) < 5_000) return "just now";
  const text = formatDuration(Math.abs(delta)).split(" ").slice(0, 2).join(" ");
  return delta >= 0 ? `${text} ago` : `in ${text}`;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** Local time, `2026-01-15 12:03:04` (the date left out when `short` and it is today). */
export function formatTime(ms: number, short = false): string {
  const date = new Date(ms);
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  if (short && new Date().toDateString() === date.toDateString()) return time;
  return `${day} ${time}`;
}

/** `mount=/ interface=eth0` */
export function formatLabels(labels: Record<string, string>): string {
  return Object.keys(labels).sort().map((name) => `${name}=${labels[name]}`).join(" ");
}
