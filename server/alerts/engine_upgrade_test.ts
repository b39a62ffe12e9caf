/**
 * An alerts.db written before series identities were JSON (`shared/series.ts`): state rows are
 * keyed `agent \x1f metric \x1f name \x1e value …` for series and by the agent id alone for
 * agent_absent rules. An upgraded server must take up what was firing without losing it,
 * keeping it twice or paging again.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { seriesIdentityOf } from "../../shared/series.ts";
import type { AlertRuleConfig } from "./config.ts";
import {
  agentAbsent,
  statuses,
  T0,
  threshold,
  withEngine,
} from "../../tests/helpers/alert_harness.ts";

const RULES: AlertRuleConfig[] = [
  threshold({ name: "disk-full", metric: "disk.used_percent", value: 80, silenceSecs: 600 }),
  agentAbsent(),
];

const DISK = { mount: "/", fs: "ext4" };

/**
 * `sqlite3 .dump` of the alerts.db the engine of commit b6c201c wrote with `RULES`: web-1's root
 * disk at 99 % from T0 (2026-01-01T00:00:00Z), web-2 silent since T0 and reported absent at
 * T0 + 120 s, web-1 last seen then.
 */
const OLD_ALERTS_DB = `
CREATE TABLE alert_history (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  rule_name TEXT NOT NULL,
  rule_type TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  metric_name TEXT NOT NULL,
  labels TEXT NOT NULL,
  severity TEXT NOT NULL,
  status TEXT NOT NULL,
  message TEXT NOT NULL,
  value REAL,
  threshold REAL,
  timestamp_ms INTEGER NOT NULL,
  predicted_breach_ms INTEGER,
  r_squared REAL,
  firing_since_ms INTEGER
);
INSERT INTO alert_history VALUES(1,'eba6f571-99c8-45fb-b2f9-182dd3be0ebf','disk-full','threshold','web-1','disk.used_percent','{"mount":"/","fs":"ext4"}','critical','firing','disk-full: disk.used_percent{fs="ext4",mount="/"} on web-1 is 99 > 80',99.0,80.0,1767225600000,NULL,NULL,1767225600000);
INSERT INTO alert_history VALUES(2,'62dff847-1409-421b-8603-2e6e51270d2e','agent-down','agent_absent','web-2','','{}','critical','firing','agent-down: web-2 has not reported for 2m (limit 2m)',120.0,120.0,1767225720000,NULL,NULL,1767225720000);
CREATE TABLE alert_state (
  rule_name TEXT NOT NULL,
  series_key TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  metric_name TEXT NOT NULL,
  labels TEXT NOT NULL,
  severity TEXT NOT NULL,
  since_ms INTEGER NOT NULL,
  last_notified_ms INTEGER NOT NULL,
  value REAL,
  threshold REAL,
  message TEXT NOT NULL,
  predicted_breach_ms INTEGER,
  r_squared REAL,
  PRIMARY KEY (rule_name, series_key)
) WITHOUT ROWID;
INSERT INTO alert_state VALUES('agent-down','web-2','web-2','','{}','critical',1767225720000,1767225720000,120.0,120.0,'agent-down: web-2 has not reported for 2m (limit 2m)',NULL,NULL);
INSERT INTO alert_state VALUES('disk-full','web-1\u001fdisk.used_percent\u001ffs\u001eext4\u001fmount\u001e/','web-1','disk.used_percent','{"mount":"/","fs":"ext4"}','critical',1767225600000,1767225600000,99.0,80.0,'disk-full: disk.used_percent{fs="ext4",mount="/"} on web-1 is 99 > 80',NULL,NULL);
CREATE TABLE absent_seen (
  rule_name TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  last_seen_ms INTEGER NOT NULL,
  PRIMARY KEY (rule_name, agent_id)
) WITHOUT ROWID;
INSERT INTO absent_seen VALUES('agent-down','web-1',1767225720000);
INSERT INTO absent_seen VALUES('agent-down','web-2',1767225600000);
CREATE INDEX alert_history_by_time ON alert_history (timestamp_ms, seq);
`;

function writeOldAlertsDb(path: string): void {
  const db = new DatabaseSync(path);
  try {
    db.exec(OLD_ALERTS_DB);
  } finally {
    db.close();
  }
}

/** The state table's keys, read through a connection of its own. */
function storedKeys(path: string): string[][] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const rows = db.prepare("SELECT rule_name, series_key FROM alert_state ORDER BY 1, 2").all();
    return rows.map((row) => [row.rule_name as string, row.series_key as string]);
  } finally {
    db.close();
  }
}

const setup = (path: string, clock: { set(ms: number): void }) => {
  writeOldAlertsDb(path);
  clock.set(T0 + 180_000);
};

Deno.test("AlertEngine re-keys state written in the old format when it opens", async () => {
  await withEngine(RULES, (h) => {
    assert.deepEqual(storedKeys(h.statePath), [
      ["agent-down", seriesIdentityOf("web-2", "", {})],
      ["disk-full", seriesIdentityOf("web-1", "disk.used_percent", DISK)],
    ]);
    assert.deepEqual(
      h.engine.active().map((a) => [a.ruleName, a.agentId, a.labels, a.sinceMs, a.lastNotifiedMs]),
      [
        ["disk-full", "web-1", DISK, T0, T0],
        ["agent-down", "web-2", {}, T0 + 120_000, T0 + 120_000],
      ],
    );
    assert.deepEqual(h.events, [], "opening sends nothing");
  }, { setup });
});

Deno.test("AlertEngine does not page again for an alert firing before the upgrade", async () => {
  await withEngine(RULES, (h) => {
    h.sample("web-1", "disk.used_percent", 99, DISK);
    h.engine.tick();
    assert.equal(h.events.length, 0, "still inside silence_secs of the last page");
    h.reopen();
    assert.equal(h.engine.active().length, 2);
    assert.equal(storedKeys(h.statePath).length, 2, "one row per alert");

    h.clock.set(T0 + 600_000);
    h.sample("web-1", "disk.used_percent", 99, DISK);
    assert.deepEqual(statuses(h.events), ["firing:web-1"], "repeated once silence_secs passed");
    assert.equal(h.events[0].firingSinceMs, T0, "the same episode");
  }, { setup });
});

Deno.test("AlertEngine resolves an alert firing before the upgrade once, for good", async () => {
  await withEngine(RULES, (h) => {
    h.sample("web-1", "disk.used_percent", 10, DISK);
    h.sample("web-2", "cpu.usage", 1);
    assert.deepEqual(statuses(h.events), ["resolved:web-1", "resolved:web-2"]);
    assert.deepEqual(h.events.map((e) => e.firingSinceMs), [T0, T0 + 120_000]);
    assert.deepEqual(storedKeys(h.statePath), []);

    h.reopen();
    assert.deepEqual(h.engine.active(), [], "nothing comes back after a restart");
    h.engine.tick();
    h.sample("web-1", "disk.used_percent", 10, DISK);
    assert.equal(h.events.length, 2, "no second resolve");
    assert.equal(h.engine.history().total, 4, "the old history is kept");
  }, { setup });
});

Deno.test("AlertEngine keeps one row of an alert stored under both keys: the later page", async (t) => {
  // A server downgraded and upgraded again may have written the alert under both keys.
  const newKey = seriesIdentityOf("web-1", "disk.used_percent", DISK);
  for (const later of ["old", "new"]) {
    await t.step(`the ${later} key's row was paged later`, async () => {
      await withEngine(RULES, (h) => {
        const disk = () => h.engine.active().filter((a) => a.ruleName === "disk-full");
        assert.deepEqual(storedKeys(h.statePath).filter(([rule]) => rule === "disk-full"), [
          ["disk-full", newKey],
        ]);
        assert.deepEqual(disk().map((a) => a.lastNotifiedMs), [T0 + 60_000]);
        h.reopen();
        assert.deepEqual(disk().map((a) => a.lastNotifiedMs), [T0 + 60_000]);
      }, {
        setup(path, clock) {
          writeOldAlertsDb(path);
          const db = new DatabaseSync(path);
          db.prepare(
            `INSERT INTO alert_state SELECT rule_name, ?, agent_id, metric_name, labels, severity,
               since_ms, last_notified_ms, value, threshold, message, predicted_breach_ms,
               r_squared FROM alert_state WHERE rule_name = 'disk-full'`,
          ).run(newKey);
          db.prepare(
            `UPDATE alert_state SET last_notified_ms = ?
             WHERE rule_name = 'disk-full' AND (series_key = ?) = ?`,
          ).run(T0 + 60_000, newKey, later === "new" ? 1 : 0);
          db.close();
          clock.set(T0 + 180_000);
        },
      });
    });
  }
});
