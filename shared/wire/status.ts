/**
 * gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html): the one table the
 * agent, the listener child and the ingest service share. `status_test.ts` checks it against
 * grpc-js's own.
 */
export const GrpcStatus = Object.freeze({
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
});

/** One of the codes of `GrpcStatus`. */
export type GrpcStatusCode = typeof GrpcStatus[keyof typeof GrpcStatus];

const NAMES: readonly string[] = Object.keys(GrpcStatus);

/** `UNAVAILABLE` for 14; the number itself for a code this table does not know. */
export function grpcStatusName(code: number): string {
  return NAMES[code] ?? String(code);
}
