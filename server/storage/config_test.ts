import assert from "node:assert/strict";
import { parseServerConfig } from "../config.ts";

Deno.test("[storage.rollups] keeps raw samples 15 days, 5-minute rollups 90, hourly 730 by default", () => {
  assert.deepEqual(parseServerConfig("").storageRetention, {
    rawDays: 15,
    fiveMinuteDays: 90,
    oneHourDays: 730,
  });
  assert.equal(parseServerConfig("").retentionDays, 15);
});

Deno.test("retention_days of an existing config still sets how long raw samples are kept", () => {
  const config = parseServerConfig("retention_days = 7\n");
  assert.equal(config.retentionDays, 7);
  assert.deepEqual(config.storageRetention, { rawDays: 7, fiveMinuteDays: 90, oneHourDays: 730 });
});

Deno.test("[storage.rollups] sets each retention; 0 turns a tier off", () => {
  const config = parseServerConfig(`
[storage.rollups]
raw_days = 3
five_minute_days = 0
one_hour_days = 365
`);
  assert.deepEqual(config.storageRetention, { rawDays: 3, fiveMinuteDays: 0, oneHourDays: 365 });
  assert.equal(config.retentionDays, 3);
  assert.equal(
    parseServerConfig("retention_days = 4\n[storage.rollups]\nraw_days = 4\n").retentionDays,
    4,
  );
});

Deno.test("[storage.rollups] problems are named by their TOML path", () => {
  assert.throws(
    () =>
      parseServerConfig(`
retention_days = 7
[storage.rollups]
raw_days = 9
five_minute_days = -1
one_hour_dayz = 3
`),
    (error: Error) => {
      assert.match(
        error.message,
        /storage\.rollups\.raw_days: 9 conflicts with retention_days = 7/,
      );
      assert.match(
        error.message,
        /storage\.rollups\.five_minute_days: expected a non-negative integer, got -1/,
      );
      assert.match(error.message, /storage\.rollups\.one_hour_dayz: unknown key/);
      return true;
    },
  );
});
