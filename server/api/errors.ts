/**
 * The REST error format: `{"error": "...", "code": "..."}` with a fitting HTTP status. Route
 * handlers throw `ApiError`; the app's single `onError` renders it (anything else becomes a 500
 * without internals).
 */
export type ApiErrorCode =
  | "bad_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "misdirected"
  | "internal"
  | "unavailable";

type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 421 | 500 | 503;

const STATUS: Record<ApiErrorCode, ErrorStatus> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  misdirected: 421,
  internal: 500,
  unavailable: 503,
};

/** Every `code` an error answer can carry. */
export const ERROR_CODES: readonly ApiErrorCode[] = Object.freeze(
  Object.keys(STATUS) as ApiErrorCode[],
);

export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly status: ErrorStatus;
  constructor(code: ApiErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ApiError";
    this.code = code;
    this.status = STATUS[code];
  }
}

/** A 400 naming the bad query parameter and what was wrong with it. */
export function badParameter(name: string, message: string): ApiError {
  return new ApiError("bad_request", `Invalid query parameter "${name}": ${message}`);
}

/** A 404 for a thing that does not exist, e.g. `notFound("agent", "web-1")`. */
export function notFound(kind: string, id: string): ApiError {
  return new ApiError("not_found", `Unknown ${kind} "${id}"`);
}

/** A 400 naming the bad field of a JSON request body, e.g. `badField("domains[2].port", ...)`. */
export function badField(path: string, message: string): ApiError {
  return new ApiError("bad_request", `Invalid request body field "${path}": ${message}`);
}

export function errorBody(code: ApiErrorCode, message: string): { error: string; code: string } {
  return { error: message, code };
}
