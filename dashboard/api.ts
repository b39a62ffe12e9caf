/**
 * Every request of the page goes through `api`: one place that adds the base path, reads the
 * JSON error format and turns a 401 into the signed-out state (so sign-in can plug in here).
 */

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

type UnauthorizedHandler = () => void;
let onUnauthorized: UnauthorizedHandler = () => {};

/** What the page does when the server answers 401 (shows the sign-in state). */
export function setUnauthorizedHandler(handler: UnauthorizedHandler): void {
  onUnauthorized = handler;
}

export type Params = Record<string, string | number | undefined | null>;

export function apiUrl(path: string, params: Params = {}): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, String(value));
  }
  const query = search.toString();
  return `api/v1${path}${query ? "?" + query : ""}`;
}

/**
 * GETs `/api/v1<path>` and returns its JSON; throws `ApiError` with the server's message, or an
 * `AbortError` once `signal` is aborted (also when the answer arrived first).
 */
export async function api<T>(path: string, params?: Params, signal?: AbortSignal): Promise<T> {
  let response: Response;
  try {
    response = await fetch(apiUrl(path, params), {
      credentials: "same-origin",
      headers: { accept: "application/json" },
      signal,
    });
  } catch (error) {
    signal?.throwIfAborted();
    throw new ApiError(0, `Cannot reach the oxmon server (${(error as Error).message})`);
  }
  if (response.status === 401) {
    onUnauthorized();
    throw new ApiError(401, "Sign-in required");
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    // An abort cuts the body short: that is not a server fault to report.
    signal?.throwIfAborted();
    throw new ApiError(response.status, `The server sent no JSON (HTTP ${response.status})`);
  }
  // The answer came, but the view or range it was for is gone: the caller must not draw it
  // (see view.ts).
  signal?.throwIfAborted();
  if (!response.ok) {
    const text = (body as { error?: string })?.error ?? `HTTP ${response.status}`;
    throw new ApiError(response.status, text);
  }
  return body as T;
}
