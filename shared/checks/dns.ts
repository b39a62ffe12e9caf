/**
 * The `dns` check: one lookup of `query_name` for `record_type`, at `resolver` or the system's.
 * Up when the name has such records and every `expected` value is among them.
 */
import type { CheckOutcome, DnsCheckSpec, DnsRecordType } from "./spec.ts";
import { describeProbeError } from "./_errors.ts";

/** Runs one `dns` check. Never throws: a failure is an outcome with `up: false`. */
export async function runDnsCheck(
  spec: DnsCheckSpec,
  options: { signal: AbortSignal },
): Promise<CheckOutcome> {
  const started = performance.now();
  let answers: string[];
  try {
    const records = await Deno.resolveDns(
      spec.queryName,
      // One overload per record type; the union is fine at run time.
      spec.recordType as "A",
      {
        signal: options.signal,
        ...(spec.resolver ? { nameServer: spec.resolver } : {}),
      },
    );
    answers = (records as unknown[]).map((record) => answerText(spec.recordType, record));
  } catch (error) {
    const durationMs = performance.now() - started;
    const message = error instanceof Deno.errors.NotFound
      ? `no ${spec.recordType} records for ${spec.queryName}`
      : describeProbeError(error, options.signal);
    return { up: false, durationMs, message };
  }
  const durationMs = performance.now() - started;
  const normalized = new Set(answers.map((answer) => normalize(spec.recordType, answer)));
  const missing = spec.expected.filter((value) =>
    !normalized.has(normalize(spec.recordType, value))
  );
  if (missing.length > 0) {
    return {
      up: false,
      durationMs,
      answers,
      message: `expected ${missing.map((value) => JSON.stringify(value)).join(", ")} among ` +
        `the answers, got ${answers.map((value) => JSON.stringify(value)).join(", ")}`,
    };
  }
  return { up: true, durationMs, answers, message: answers.join(", ") };
}

/**
 * One record as text: an address or name as is (`10.0.0.1`, `mail.example.com.`), MX as
 * `10 mail.example.com.`, SRV as `priority weight port target`, TXT with its strings joined.
 */
export function answerText(type: DnsRecordType, record: unknown): string {
  if (typeof record === "string") return record;
  if (type === "TXT" && Array.isArray(record)) return record.join("");
  const value = record as Record<string, unknown>;
  if (type === "MX") return `${value.preference} ${value.exchange}`;
  if (type === "SRV") return `${value.priority} ${value.weight} ${value.port} ${value.target}`;
  return JSON.stringify(record);
}

/** Names compare without case and without the final dot; TXT values exactly. */
function normalize(type: DnsRecordType, text: string): string {
  if (type === "TXT") return text;
  return text.trim().toLowerCase().replace(/\.(?=\s|$)/g, "");
}
