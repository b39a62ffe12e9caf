import type { DatabaseSync, StatementSync } from "node:sqlite";

/**
 * Prepares a statement whose rows come back as arrays, which skips building an object per row.
 * Deno's `node:sqlite` has `setReturnArrays` at run time but not yet in its type declarations.
 */
export function prepareReturningArrays(db: DatabaseSync, sql: string): StatementSync {
  const statement = db.prepare(sql) as StatementSync & { setReturnArrays(enabled: boolean): void };
  statement.setReturnArrays(true);
  return statement;
}
