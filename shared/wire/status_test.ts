import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { GrpcStatus, grpcStatusName } from "./status.ts";

Deno.test("GrpcStatus holds grpc-js's codes under the same names", () => {
  const theirs = Object.entries(status).filter(([, code]) => typeof code === "number");
  assert.deepEqual(Object.entries(GrpcStatus), theirs);
});

Deno.test("grpcStatusName names a code, or gives a number it does not know", () => {
  assert.equal(grpcStatusName(14), "UNAVAILABLE");
  assert.equal(grpcStatusName(GrpcStatus.INVALID_ARGUMENT), "INVALID_ARGUMENT");
  assert.equal(grpcStatusName(0), "OK");
  assert.equal(grpcStatusName(42), "42");
  assert.equal(grpcStatusName(-1), "-1");
});
