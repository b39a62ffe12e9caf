/**
 * JSON request bodies for write routes. Like query parameters, a body is checked whole before a
 * route acts on it: not JSON, not an object, an unknown field or a field of the wrong type is a
 * 400 that names the field (`domains[2].port`).
 */
import type { Context } from "hono";
import { concatBytes } from "../../shared/http2/frames.ts";
import { ApiError, badField } from "./errors.ts";

/** Largest body a write route reads. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The request body as a JSON value; a 400 when it is missing, too large or not JSON. */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.length > MAX_BODY_BYTES) {
    throw new ApiError("bad_request", `Request body larger than ${MAX_BODY_BYTES} bytes`);
  }
  if (text.trim() === "") throw new ApiError("bad_request", "Request body is empty; expected JSON");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError("bad_request", `Request body is not JSON: ${(error as Error).message}`);
  }
}

/**
 * The raw body, or `undefined` when it is longer than `limit` bytes: a declared
 * `content-length` over it is refused before reading, and reading stops at the first byte past it.
 */
export async function readBodyLimited(
  request: Request,
  limit: number,
): Promise<Uint8Array | undefined> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > limit) return undefined;
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return concatBytes(chunks);
}

/** Reads the fields of one JSON object, refusing unknown ones. */
export class BodyReader {
  readonly #object: Record<string, unknown>;
  readonly #path: string;

  constructor(value: unknown, path = "", allowed?: readonly string[]) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw path === ""
        ? new ApiError("bad_request", "Request body must be a JSON object")
        : badField(path, "expected an object");
    }
    this.#object = value as Record<string, unknown>;
    this.#path = path;
    if (allowed) {
      for (const key of Object.keys(this.#object)) {
        if (!allowed.includes(key)) {
          throw badField(this.pathOf(key), `unknown field; expected ${allowed.join(", ")}`);
        }
      }
    }
  }

  pathOf(key: string): string {
    return this.#path ? `${this.#path}.${key}` : key;
  }

  has(key: string): boolean {
    return this.#object[key] !== undefined;
  }

  /** True when the field is present with `null`. */
  isNull(key: string): boolean {
    return this.#object[key] === null;
  }

  raw(key: string): unknown {
    return this.#object[key];
  }

  string(key: string): string {
    const value = this.#object[key];
    if (typeof value !== "string") throw badField(this.pathOf(key), "expected a string");
    return value;
  }

  optionalString(key: string): string | undefined {
    return this.has(key) ? this.string(key) : undefined;
  }

  integer(key: string, { min, max }: { min: number; max: number }): number {
    const value = this.#object[key];
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      throw badField(
        this.pathOf(key),
        `expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
      );
    }
    return value;
  }

  boolean(key: string): boolean {
    const value = this.#object[key];
    if (typeof value !== "boolean") {
      throw badField(this.pathOf(key), `expected true or false, got ${JSON.stringify(value)}`);
    }
    return value;
  }

  array(key: string): unknown[] {
    const value = this.#object[key];
    if (!Array.isArray(value)) throw badField(this.pathOf(key), "expected an array");
    return value;
  }
}
