/** The shapes of the API answers the page reads (see the README's REST API section). */

export type Severity = "info" | "warning" | "critical";

export interface FleetAgent {
  agent_id: string;
  status: "active" | "inactive" | "absent";
  absent_since: string | null;
  first_seen: string;
  last_seen: string;
  hostname: string | null;
  os: string | null;
  cpu_cores: number | null;
  cpu: number | null;
  memory: { percent: number | null; used: number | null; total: number | null } | null;
  swap_percent: number | null;
  disk: { percent: number; mount: string } | null;
  network: { recv: number; sent: number } | null;
  load: { load_1: number | null; load_5: number | null; load_15: number | null } | null;
  uptime_secs: number | null;
  alerts: { firing: number; severity: Severity | null };
  spark: Record<string, (number | null)[]>;
}

export interface FleetAnswer {
  range: string;
  from: string;
  to: string;
  step_secs: number;
  count: number;
  agents: FleetAgent[];
}

export interface ActiveAlert {
  rule: string;
  rule_type: string;
  agent_id: string;
  metric: string;
  labels: Record<string, string>;
  severity: Severity;
  message: string;
  value: number | null;
  current_value?: number | null;
  current_at?: string | null;
  threshold: number | null;
  since: string;
  last_notified: string;
}

export interface ActiveAlertsAnswer {
  count: number;
  alerts: ActiveAlert[];
}

export interface AlertEvent {
  id: string;
  status: "firing" | "resolved";
  rule: string;
  rule_type: string;
  agent_id: string;
  metric: string;
  labels: Record<string, string>;
  severity: Severity;
  message: string;
  value: number | null;
  threshold: number | null;
  timestamp: string;
  firing_since: string | null;
}

export interface HistoryAnswer {
  total: number;
  limit: number;
  offset: number;
  events: AlertEvent[];
}

export interface RulesAnswer {
  rules: (Record<string, unknown> & { name: string; type: string; severity: Severity })[];
}

export interface Delivery {
  id: number;
  time: string;
  channel: string;
  channel_type: string;
  status: string;
  severity: Severity;
  event_ids: string[];
  attempts: number;
  error: string | null;
}

export interface DeliveriesAnswer {
  total: number;
  limit: number;
  offset: number;
  deliveries: Delivery[];
}

export interface AgentAnswer {
  agent_id: string;
  first_seen: string;
  last_seen: string;
  status: "active" | "inactive";
  system_info: {
    hostname: string;
    os: string;
    os_version: string;
    arch: string;
    kernel_version: string;
    cpu_cores: number;
    memory_gb: number;
    disk_gb: number;
  } | null;
}

export interface MetricsAnswer {
  from: string;
  to: string;
  step_secs: number | null;
  series: {
    agent_id: string;
    metric: string;
    labels: Record<string, string>;
    unit: string;
    points: { timestamp: string; avg: number; min: number; max: number; count: number }[];
  }[];
}

export interface HealthAnswer {
  status: string;
  version: string;
  agent_count: number;
  active_agent_count: number;
  storage_status: string;
}

export interface AgentsAnswer {
  agents: AgentAnswer[];
}

export interface LatestAnswer {
  series: {
    agent_id: string;
    metric: string;
    labels: Record<string, string>;
    unit: string;
    timestamp: string;
    value: number;
  }[];
}

export interface CheckResultJson {
  check: string;
  type: string;
  target: string;
  up: boolean;
  message: string;
  duration_ms: number;
  status_code: number | null;
  certificate_days_left: number | null;
  answers: string[] | null;
  at: string;
}

/** One of the server's checks, from `GET /api/v1/checks`. */
export interface ServerCheck {
  name: string;
  type: string;
  target: string;
  from: "server";
  interval_secs: number;
  timeout_secs?: number;
  grace_secs?: number;
  next_run_at?: string | null;
  next_ping_due?: string | null;
  up: boolean | null;
  last_result: CheckResultJson | null;
}

export interface ChecksAnswer {
  count: number;
  checks: ServerCheck[];
}

export interface CertDomain {
  id: string;
  domain: string;
  port: number;
  enabled: boolean;
  check_interval_secs: number | null;
  note: string | null;
  source: "api" | "config";
  last_checked_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface CertDomainsAnswer {
  total: number;
  limit: number;
  offset: number;
  domains: CertDomain[];
}

export interface CertResult {
  id: number;
  domain_id: string;
  domain: string;
  port: number;
  is_valid: boolean;
  chain_valid: boolean;
  hostname_valid: boolean | null;
  not_before: string | null;
  not_after: string | null;
  days_until_expiry: number | null;
  issuer: string | null;
  subject: string | null;
  san_list: string[] | null;
  serial_number: string | null;
  fingerprint_sha256: string | null;
  key_type: string | null;
  key_bits: number | null;
  tls_version: string | null;
  chain: string[] | null;
  resolved_ips: string[] | null;
  error: string | null;
  duration_ms: number;
  checked_at: string;
}

export interface CertStatusAnswer {
  count: number;
  results: CertResult[];
}

export interface CertHistoryAnswer {
  total: number;
  limit: number;
  offset: number;
  results: CertResult[];
}
