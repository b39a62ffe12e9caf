/**
 * `[alert]` section of the server TOML (`[[alert.rules]]`).
 * PLACEHOLDER until the alert engine lands: accepts the section without validating rules.
 */
import type { TableReader } from "../../shared/config/mod.ts";

export interface AlertConfig {
  rules: readonly unknown[];
}

export function readAlertConfig(table: TableReader): AlertConfig {
  const rules = table.tables("rules").map((rule) => {
    return rule;
  });
  table.finish();
  return { rules };
}
