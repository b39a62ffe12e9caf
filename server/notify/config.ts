/**
 * `[notification]` section of the server TOML (`[[notification.channels]]`,
 * `[[notification.silence_windows]]`).
 * PLACEHOLDER until notifications land: accepts the section without validating it.
 */
import type { TableReader } from "../../shared/config/mod.ts";

export interface NotificationConfig {
  channels: readonly unknown[];
}

export function readNotificationConfig(
  table: TableReader,
  _topLevelAggregationWindowSecs: number | undefined,
): NotificationConfig {
  table.accept("silence_windows");
  table.accept("aggregation_window_secs");
  const channels = table.tables("channels");
  table.finish();
  return { channels };
}
