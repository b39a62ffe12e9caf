/** One HTTP request for webhook and SMS senders: a non-2xx answer is an error. */

/**
 * How much of an error response's body goes into the error message: more than is kept, so the
 * channel queue's redaction sees whole secrets before it cuts the text short.
 */
const MAX_ERROR_BODY = 4096;

export async function sendHttp(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  signal: AbortSignal,
): Promise<void> {
  const response = await fetch(url, { ...init, signal, redirect: "manual" });
  // The body is always read so the connection is released.
  const text = await response.text();
  if (response.status < 200 || response.status > 299) {
    const detail = text.trim().slice(0, MAX_ERROR_BODY);
    throw new Error(`HTTP ${response.status}${detail ? `: ${detail}` : ""}`);
  }
}

/** Headers with `name` set unless present in any letter case. */
export function withDefaultHeader(
  headers: Readonly<Record<string, string>>,
  name: string,
  value: string,
): Record<string, string> {
  const has = Object.keys(headers).some((key) => key.toLowerCase() === name.toLowerCase());
  return has ? { ...headers } : { ...headers, [name]: value };
}
