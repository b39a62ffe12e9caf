import assert from "node:assert/strict";
import { METRIC_CATALOG } from "../../shared/catalog.ts";
import {
  agentFromInstance,
  fromPromLabels,
  fromPromName,
  toPromLabels,
  toPromName,
} from "./naming.ts";
import { formatSampleValue } from "./promql/format.ts";

/** The naming table the README documents. */
const TABLE: Record<string, string> = {
  "cpu.usage": "oxmon_cpu_usage_percent",
  "cpu.core_usage": "oxmon_cpu_core_usage_percent",
  "memory.total": "oxmon_memory_total_bytes",
  "memory.used": "oxmon_memory_used_bytes",
  "memory.available": "oxmon_memory_available_bytes",
  "memory.used_percent": "oxmon_memory_used_percent",
  "memory.swap_total": "oxmon_memory_swap_total_bytes",
  "memory.swap_used": "oxmon_memory_swap_used_bytes",
  "memory.swap_percent": "oxmon_memory_swap_percent",
  "disk.total": "oxmon_disk_total_bytes",
  "disk.used": "oxmon_disk_used_bytes",
  "disk.available": "oxmon_disk_available_bytes",
  "disk.used_percent": "oxmon_disk_used_percent",
  "disk.read_bytes_per_sec": "oxmon_disk_read_bytes_per_second",
  "disk.write_bytes_per_sec": "oxmon_disk_write_bytes_per_second",
  "disk.read_ops_per_sec": "oxmon_disk_read_ops_per_second",
  "disk.write_ops_per_sec": "oxmon_disk_write_ops_per_second",
  "network.bytes_recv": "oxmon_network_bytes_recv_per_second",
  "network.bytes_sent": "oxmon_network_bytes_sent_per_second",
  "network.packets_recv": "oxmon_network_packets_recv_per_second",
  "network.packets_sent": "oxmon_network_packets_sent_per_second",
  "system.load_1": "oxmon_system_load_1",
  "system.load_5": "oxmon_system_load_5",
  "system.load_15": "oxmon_system_load_15",
  "system.uptime": "oxmon_system_uptime_seconds",
  "agent.collector_success": "oxmon_agent_collector_success",
  "agent.collector_duration_seconds": "oxmon_agent_collector_duration_seconds",
  "agent.buffer_batches": "oxmon_agent_buffer_batches",
  "agent.dropped_batches_total": "oxmon_agent_dropped_batches_total",
  "check.up": "oxmon_check_up",
  "check.duration_seconds": "oxmon_check_duration_seconds",
  "check.status_code": "oxmon_check_status_code",
  "check.certificate_days_until_expiry": "oxmon_check_certificate_days_until_expiry",
  "certificate.days_until_expiry": "oxmon_certificate_days_until_expiry",
  "certificate.is_valid": "oxmon_certificate_is_valid",
};

Deno.test("every catalog metric has the documented Prometheus name, and it maps back", () => {
  assert.deepEqual(Object.keys(TABLE).sort(), Object.keys(METRIC_CATALOG).sort());
  for (const [metric, promName] of Object.entries(TABLE)) {
    assert.equal(toPromName(metric), promName);
    assert.equal(fromPromName(promName), metric);
  }
});

Deno.test("check and certificate metrics: booleans carry no unit word, days keep theirs", () => {
  assert.equal(toPromName("check.up"), "oxmon_check_up");
  assert.equal(toPromName("certificate.days_until_expiry"), "oxmon_certificate_days_until_expiry");
  assert.equal(fromPromName("oxmon_check_up"), "check.up");
});

Deno.test("other metric names pass through when valid and are sanitized otherwise", () => {
  assert.equal(toPromName("node_load1"), "node_load1");
  assert.equal(fromPromName("node_load1"), "node_load1");
  assert.equal(toPromName("app.latency-ms"), "app_latency_ms");
  assert.equal(toPromName("9lives"), "_9lives");
});

Deno.test("labels: agent beside instance, sorted; a stored agent label is exported_agent", () => {
  assert.deepEqual(
    toPromLabels({ agentId: "web-1", metricName: "cpu.core_usage", labels: { core: "0" } }),
    [
      ["__name__", "oxmon_cpu_core_usage_percent"],
      ["agent", "web-1"],
      ["core", "0"],
    ],
  );
  assert.deepEqual(
    toPromLabels({ agentId: "web-1", metricName: "x", labels: { agent: "other", b: "" } }, {
      extra: { cluster: "eu", agent: "z" },
    }),
    [["__name__", "x"], ["agent", "web-1"], ["cluster", "eu"], ["exported_agent", "other"]],
  );
  assert.deepEqual(
    fromPromLabels([
      { name: "__name__", value: "oxmon_disk_used_percent" },
      { name: "agent", value: "db-1" },
      { name: "mount", value: "/" },
      { name: "empty", value: "" },
    ], undefined),
    { agentId: "db-1", metricName: "disk.used_percent", labels: { mount: "/" } },
  );
  assert.equal(agentFromInstance("web-1:9100"), "web-1");
  assert.equal(agentFromInstance("[::1]:9100"), "::1");
  assert.equal(agentFromInstance("web-1"), "web-1");
});

Deno.test("sample values are written as Go's FormatFloat(v, 'f', -1, 64)", () => {
  const cases: [number, string][] = [
    [1, "1"],
    [0.1, "0.1"],
    [-2.5, "-2.5"],
    [1e21, "1000000000000000000000"],
    [1.5e-7, "0.00000015"],
    [-1.2345e25, "-12345000000000000000000000"],
    [NaN, "NaN"],
    [Infinity, "+Inf"],
    [-Infinity, "-Inf"],
  ];
  for (const [value, text] of cases) assert.equal(formatSampleValue(value), text);
});
