/**
 * Secrets out of notification errors. A gateway that echoes its request (or an error that quotes
 * the URL) would otherwise put an API key, a password or a URL secret into the log and the
 * delivery record. Every error text is redacted before it is logged or stored: the channel's own
 * secrets wherever they appear (also percent- or JSON-encoded), then anything shaped like one
 * (URL credentials, secret-named query parameters and fields, bearer tokens), and cut short.
 */
import type { ChannelConfig } from "./config.ts";

export const REDACTED = "[redacted]";
/** Longest error text kept, after redaction. */
export const MAX_ERROR_TEXT = 300;

const SECRET_NAME = String
  .raw`[\w-]*(?:key|token|secret|passw(?:or)?d|pwd|auth\w*|signature|sig|credential|session)[\w-]*`;

const PATTERNS: [RegExp, string][] = [
  // scheme://user:password@host
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@"'<>]+@/gi, `$1${REDACTED}@`],
  // ?api_key=…&token=…
  [new RegExp(String.raw`([?&;]${SECRET_NAME}=)[^&\s"'<>#]+`, "gi"), `$1${REDACTED}`],
  // Authorization: Bearer …, Basic …
  [/\b(bearer|basic)\s+[\w.~+/=-]{4,}/gi, `$1 ${REDACTED}`],
  // "api_key": "…", password=…, token: …
  [
    new RegExp(
      String.raw`(["']?${SECRET_NAME}["']?\s*[:=]\s*["']?)(?!\[redacted\])[^"'\s,;&}<>]+`,
      "gi",
    ),
    `$1${REDACTED}`,
  ],
];

/** What one channel knows that must never be shown: keys, passwords, header values, URL parts. */
export function channelSecrets(channel: ChannelConfig): string[] {
  const secrets: string[] = [];
  const fromUrl = (text: string) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return;
    }
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    if (user) secrets.push(user);
    if (password) {
      secrets.push(password);
      // fetch sends URL credentials as `Authorization: Basic base64(user:password)`.
      secrets.push(btoa(`${user}:${password}`));
    }
    for (const value of url.searchParams.values()) secrets.push(value);
    // Path segments long enough to be keys (e.g. hooks.slack.com/services/T…/B…/xyz…).
    for (const segment of url.pathname.split("/")) {
      if (segment.length >= 16) secrets.push(decodeURIComponent(segment));
    }
  };
  switch (channel.type) {
    case "email":
      if (channel.smtpPassword) secrets.push(channel.smtpPassword);
      break;
    case "webhook":
      fromUrl(channel.url);
      secrets.push(...Object.values(channel.headers));
      break;
    case "sms":
      fromUrl(channel.gatewayUrl);
      if (channel.apiKey) secrets.push(channel.apiKey);
      secrets.push(...Object.values(channel.headers));
      break;
  }
  // Short values (e.g. "1", "json") would turn ordinary words into [redacted].
  return [...new Set(secrets.filter((secret) => secret.length >= 6))];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A redactor for one channel's error texts. */
export function createRedactor(secrets: readonly string[]): (text: string) => string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
    forms.add(JSON.stringify(secret).slice(1, -1));
    // A header value such as "Bearer abc": its token alone too.
    const last = secret.split(/\s+/).pop();
    if (last && last.length >= 6) forms.add(last);
  }
  const known = forms.size === 0
    ? undefined
    : new RegExp([...forms].sort((a, b) => b.length - a.length).map(escapeRegExp).join("|"), "g");
  return (text) => {
    // Redact before cutting, so a cut cannot leave half a secret that no longer matches.
    let out = text.length > 64 * 1024 ? text.slice(0, 64 * 1024) : text;
    if (known) out = out.replace(known, REDACTED);
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    out = out.replace(/[\r\n\t]+/g, " ");
    return out.length > MAX_ERROR_TEXT ? `${out.slice(0, MAX_ERROR_TEXT)}…` : out;
  };
}
