/**
 * Checks and certificates: every check (the server's and agents') with its state, last run,
 * duration, status code, target and where it runs, and its runs over the selected range; every
 * certificate domain with days left, why it is invalid, issuer, expiry and last check. Failing
 * rows come first. Each row links to its details (charts of a check, history of a certificate).
 */
import { api, ApiError } from "../api.ts";
import {
  type CertRow,
  certRows,
  type CheckRow,
  checkRows,
  type CheckSources,
  domainLabel,
  expiryThresholds,
  rowKey,
  sameRuns,
} from "../checks_model.ts";
import { h, message, replace } from "../dom.ts";
import { formatAgo, formatTime, formatValue } from "../format.ts";
import { chooseStepSecs, PRESETS } from "../range.ts";
import { agentHref, certHref, checkHref, hrefWith, replaceHash } from "../route.ts";
import { sparkline } from "../spark.ts";
import { type StripColors, stripColors, type UpBucket, upStrip } from "../strip.ts";
import type {
  AgentsAnswer,
  CertDomainsAnswer,
  CertStatusAnswer,
  ChecksAnswer,
  LatestAnswer,
  MetricsAnswer,
  RulesAnswer,
} from "../types.ts";
import { Loads, type View } from "../view.ts";
import { pagerOf } from "./alerts.ts";

const RANGES = Object.keys(PRESETS);
const PAGE_SIZE = 100;
const REFRESH_MS = 10_000;
/** Buckets of a row's strip and duration line. */
const BUCKETS = 48;
/** Readings of the newest check samples per load, at most (see `loadLatest`). */
const LATEST_READS = 3;
/** Certificate domains read in one call (the API's largest page). */
const MAX_DOMAINS = 1000;

const STATE_TEXT = { down: "down", stale: "stale", waiting: "waiting", up: "up" } as const;
const CERT_TEXT = {
  invalid: "invalid",
  expiring: "expires soon",
  unchecked: "not checked",
  valid: "valid",
  disabled: "disabled",
} as const;

/** A check's runs over the range: the strip's buckets and the duration line's. */
interface RangeData {
  fromMs: number;
  stepMs: number;
  count: number;
  up: Map<string, (UpBucket & { count: number } | null)[]>;
  duration: Map<string, (number | null)[]>;
}

/** 404 means the server has no such routes (an older server): an empty list, not an error. */
function orEmpty<T>(promise: Promise<T>, empty: T): Promise<T> {
  return promise.catch((e) => {
    if (e instanceof ApiError && e.status === 404) return empty;
    throw e;
  });
}

export function checksPage(view: View, params: URLSearchParams): void {
  const root = view.root;
  const state = {
    range: RANGES.includes(params.get("range") ?? "") ? params.get("range")! : "1h",
    filter: params.get("q") ?? "",
    page: Math.max(0, Number(params.get("page") ?? 1) - 1 || 0),
  };
  let checks: CheckRow[] | undefined;
  let certs: CertRow[] | undefined;
  let certsTotal = 0;
  let ranges: RangeData | undefined;
  let rules: RulesAnswer | undefined;
  const errors = { checks: "", certs: "", range: "" };
  let timer: number | undefined;
  const loads = new Loads(view);

  const summary = h("p", { className: "status-line", id: "checks-summary", role: "status" });
  const filterInput = h("input", {
    type: "search",
    id: "filter",
    placeholder: "Filter by name, target, agent or domain",
    "aria-label": "Filter checks and certificates",
    value: state.filter,
  });
  filterInput.addEventListener("input", () => {
    state.filter = filterInput.value;
    state.page = 0;
    render();
  });
  const rangeSelect = h(
    "select",
    { id: "range", "aria-label": "Range of the runs shown" },
    RANGES.map((range) => h("option", { value: range, selected: range === state.range }, range)),
  );
  rangeSelect.addEventListener("change", () => {
    state.range = rangeSelect.value;
    load();
  });
  const checksBox = h("div", { className: "table-wrap" });
  const checksPager = h("nav", { className: "pager", "aria-label": "Check pages" });
  const checksTitle = h("h3", { id: "h-checks" }, "Checks");
  const certsBox = h("div", { className: "table-wrap" });
  const certsTitle = h("h3", { id: "h-certs" }, "Certificates");

  replace(
    root,
    h("h2", {}, "Checks and certificates"),
    h(
      "nav",
      { className: "jump", "aria-label": "Sections" },
      h("a", { href: "#/checks", onclick: jump("checks") }, "Checks"),
      h("a", { href: "#/checks", onclick: jump("certs") }, "Certificates"),
    ),
    h(
      "div",
      { className: "toolbar" },
      filterInput,
      h("label", {}, "Range ", rangeSelect),
      summary,
    ),
    h(
      "section",
      { className: "card", id: "checks", "aria-labelledby": "h-checks" },
      checksTitle,
      checksBox,
      checksPager,
    ),
    h(
      "section",
      { className: "card", id: "certs", "aria-labelledby": "h-certs" },
      certsTitle,
      certsBox,
    ),
  );

  function jump(id: string) {
    return (event: Event) => {
      event.preventDefault();
      document.getElementById(id)?.scrollIntoView({ block: "start" });
    };
  }

  function saveUrl() {
    replaceHash(hrefWith("/checks", {
      range: state.range === "1h" ? undefined : state.range,
      q: state.filter || undefined,
      page: state.page > 0 ? String(state.page + 1) : undefined,
    }));
  }

  function matches(...texts: string[]): boolean {
    const wanted = state.filter.trim().toLowerCase();
    return wanted === "" || texts.some((text) => text.toLowerCase().includes(wanted));
  }

  function render() {
    saveUrl();
    const shownChecks = (checks ?? []).filter((row) =>
      matches(row.name, row.target, row.agentId, row.type)
    );
    const shownCerts = (certs ?? []).filter((row) =>
      matches(row.domain.domain, domainLabel(row.domain), row.result?.issuer ?? "")
    );
    renderSummary();
    renderChecks(shownChecks);
    renderCerts(shownCerts);
  }

  function renderSummary() {
    const parts: string[] = [];
    if (checks) {
      const count = (state: CheckRow["state"]) => checks!.filter((r) => r.state === state).length;
      parts.push(
        `${checks.length} ${checks.length === 1 ? "check" : "checks"}: ` +
          [
            `${count("down")} down`,
            count("stale") ? `${count("stale")} stale` : "",
            count("waiting") ? `${count("waiting")} waiting` : "",
            `${count("up")} up`,
          ].filter(Boolean).join(", "),
      );
    }
    if (certs) {
      const invalid = certs.filter((r) => r.state === "invalid").length;
      const expiring = certs.filter((r) => r.state === "expiring").length;
      parts.push(
        `${certs.length} ${certs.length === 1 ? "certificate" : "certificates"}: ` +
          `${invalid} invalid, ${expiring} expiring soon`,
      );
    }
    const failed = [errors.checks, errors.certs, errors.range].filter(Boolean);
    summary.textContent = parts.join(" · ") +
      (failed.length ? ` · refresh failed: ${failed.join("; ")}` : "");
  }

  function renderChecks(rows: CheckRow[]) {
    checksTitle.textContent = checks ? `Checks (${checks.length})` : "Checks";
    if (!checks) {
      replace(
        checksBox,
        errors.checks ? message("error", errors.checks) : message("info", "Loading checks…"),
      );
      replace(checksPager);
      return;
    }
    if (checks.length === 0) {
      replace(
        checksBox,
        message(
          "empty",
          "No check has reported yet. Add [[checks]] to the server's config (or an agent's) " +
            "to watch HTTP, TCP, DNS or heartbeats.",
        ),
      );
      replace(checksPager);
      return;
    }
    if (rows.length === 0) {
      replace(checksBox, message("empty", `No check matches "${state.filter}".`));
      replace(checksPager);
      return;
    }
    const pages = Math.ceil(rows.length / PAGE_SIZE);
    state.page = Math.min(state.page, pages - 1);
    const colors = stripColors();
    const nowMs = Date.now();
    replace(
      checksBox,
      h(
        "table",
        { className: "checks cards", "aria-label": "Checks" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            [
              "Status",
              "Check",
              "Target",
              "Runs on",
              "Last run",
              "Duration",
              "Code",
              `Runs over ${state.range}`,
            ].map((title) => h("th", { scope: "col" }, title)),
          ),
        ),
        h(
          "tbody",
          {},
          rows.slice(state.page * PAGE_SIZE, (state.page + 1) * PAGE_SIZE)
            .map((row) => checkRow(row, colors, nowMs)),
        ),
      ),
    );
    pagerOf(checksPager, rows.length, PAGE_SIZE, state.page, (page) => {
      state.page = page;
      render();
    }, ["‹ Previous", "Next ›"]);
  }

  function checkRow(row: CheckRow, colors: StripColors, nowMs: number): HTMLElement {
    const key = rowKey(row.agentId, row.name, row.target);
    const upBuckets = ranges?.up.get(key) ?? [];
    const durations = ranges?.duration.get(key) ?? [];
    // Where the check's runs in this range begin: a new check's runs fill the strip.
    const firstIndex = upBuckets.findIndex((bucket) => bucket !== null);
    const startIndex = Math.max(0, firstIndex);
    let runs = 0;
    let upRuns = 0;
    for (const bucket of upBuckets) {
      if (!bucket) continue;
      runs += bucket.count;
      upRuns += bucket.avg * bucket.count;
    }
    const since = ranges && startIndex > 0
      ? ` since ${formatTime(ranges.fromMs + startIndex * ranges.stepMs, true)}`
      : "";
    const rangeText = runs === 0
      ? "no run in this range"
      : `${formatValue((upRuns / runs) * 100, "percent")} up · ${runs} ${
        runs === 1 ? "run" : "runs"
      }${since}`;
    const durationText = row.durationSecs === null ? "–" : formatValue(row.durationSecs, "seconds");
    return h(
      "tr",
      {
        "data-check": row.name,
        "data-agent": row.agentId,
        "data-state": row.state,
        className: `state-${row.state}`,
      },
      h(
        "td",
        { className: "state" },
        h("span", { className: `dot ${row.state}`, "aria-hidden": "true" }),
        h("b", {}, STATE_TEXT[row.state]),
        row.state !== "up" && row.message ? h("small", {}, row.message) : null,
      ),
      h(
        "td",
        { className: "name", "data-label": "Check" },
        h("a", { href: checkHref(row.agentId, row.name, { range: state.range }) }, row.name),
        h("small", {}, row.type),
      ),
      h(
        "td",
        { className: "target", "data-label": "Target" },
        h("span", { title: row.target }, row.target),
      ),
      h(
        "td",
        { className: "where", "data-label": "Runs on" },
        row.onServer
          ? "server"
          : [h("a", { href: agentHref(row.agentId) }, row.agentId), h("small", {}, "agent")],
      ),
      h(
        "td",
        { className: "last", "data-label": "Last run" },
        row.lastAtMs === null ? "–" : formatAgo(row.lastAtMs, nowMs),
        row.nextAtMs !== null && row.state === "waiting"
          ? h("small", {}, `first run ${formatAgo(row.nextAtMs, nowMs)}`)
          : null,
      ),
      h(
        "td",
        { className: "num duration", "data-label": "Duration" },
        h("span", { className: "now" }, durationText),
        sparkline(durations, { color: "#3b82f6", startIndex, width: 90, height: 18 }),
      ),
      h(
        "td",
        { className: "num code", "data-label": "Code" },
        row.statusCode === null ? "–" : String(row.statusCode),
      ),
      h(
        "td",
        { className: "runs", "data-label": `Runs over ${state.range}` },
        upStrip(upBuckets.slice(startIndex), { colors, width: 140, title: rangeText }),
        h("small", {}, rangeText),
      ),
    );
  }

  function renderCerts(rows: CertRow[]) {
    certsTitle.textContent = certs ? `Certificates (${certs.length})` : "Certificates";
    if (!certs) {
      replace(
        certsBox,
        errors.certs ? message("error", errors.certs) : message("info", "Loading certificates…"),
      );
      return;
    }
    if (certs.length === 0) {
      replace(
        certsBox,
        message(
          "empty",
          "No certificate is watched. List domains under [[cert_check.domains]] in the " +
            "server's config, or add them with POST /api/v1/certs/domains.",
        ),
      );
      return;
    }
    if (rows.length === 0) {
      replace(certsBox, message("empty", `No certificate matches "${state.filter}".`));
      return;
    }
    const nowMs = Date.now();
    replace(
      certsBox,
      h(
        "table",
        { className: "certs cards", "aria-label": "Certificates" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Status", "Domain", "Days left", "Why", "Issuer", "Expires", "Last checked"].map((
              title,
            ) => h("th", { scope: "col" }, title)),
          ),
        ),
        h("tbody", {}, rows.map((row) => certRow(row, nowMs))),
      ),
      certsTotal > MAX_DOMAINS
        ? message("info", `Showing the first ${MAX_DOMAINS} of ${certsTotal} domains.`)
        : null,
    );
  }

  function certRow(row: CertRow, nowMs: number): HTMLElement {
    const result = row.result;
    const lastMs = result
      ? Date.parse(result.checked_at)
      : row.domain.last_checked_at
      ? Date.parse(row.domain.last_checked_at)
      : null;
    return h(
      "tr",
      {
        "data-domain": row.domain.domain,
        "data-port": row.domain.port,
        "data-state": row.state,
        className: `state-${row.state}`,
      },
      h(
        "td",
        { className: "state" },
        h("span", { className: `dot ${row.state}`, "aria-hidden": "true" }),
        h("b", {}, CERT_TEXT[row.state]),
      ),
      h(
        "td",
        { className: "name", "data-label": "Domain" },
        h("a", { href: certHref(row.domain.domain, row.domain.port) }, domainLabel(row.domain)),
        row.domain.note ? h("small", {}, row.domain.note) : null,
      ),
      h(
        "td",
        { className: `num days ${row.urgency ?? ""}`, "data-label": "Days left" },
        formatValue(result?.days_until_expiry ?? null, "days"),
      ),
      h("td", { className: "why", "data-label": "Why" }, row.reason || "–"),
      h(
        "td",
        { className: "issuer", "data-label": "Issuer" },
        result?.issuer ? h("span", { title: result.issuer }, result.issuer) : "–",
      ),
      h(
        "td",
        { className: "expires", "data-label": "Expires" },
        result?.not_after ? formatTime(Date.parse(result.not_after)) : "–",
      ),
      h(
        "td",
        { className: "last", "data-label": "Last checked" },
        lastMs === null ? "never" : formatAgo(lastMs, nowMs),
      ),
    );
  }

  /**
   * The newest samples of every check, each row's from one run. Each metric is a request of its
   * own, and runs are stored meanwhile (at a 1 s interval, every second): one run's state beside
   * the next one's duration and code does not make a row, and the row showed "–" for them. So
   * `check.up` is read before and after the other metrics, and when a check's newest run changed
   * in between they are read again: at most `LATEST_READS` times, then the last reading stands.
   */
  async function loadLatest(signal: AbortSignal): Promise<CheckSources["latest"]> {
    const latest = (metric: string) =>
      api<LatestAnswer>("/metrics/latest", { metric }, signal).then((answer) => answer.series);
    let up = await latest("check.up");
    for (let read = 1;; read++) {
      const [duration, statusCode, certificateDays] = await Promise.all([
        latest("check.duration_seconds"),
        latest("check.status_code"),
        latest("check.certificate_days_until_expiry"),
      ]);
      const upAfter = await latest("check.up");
      if (sameRuns(up, upAfter) || read === LATEST_READS) {
        return { up: upAfter, duration, statusCode, certificateDays };
      }
      up = upAfter;
    }
  }

  async function loadChecks(signal: AbortSignal) {
    const [serverChecks, latest, agents] = await Promise.all([
      // A server without the checks routes: the checks in storage (agents') are still shown.
      orEmpty(api<ChecksAnswer>("/checks", {}, signal), undefined).then((answer) => answer?.checks),
      loadLatest(signal),
      api<AgentsAnswer>("/agents", {}, signal).then((answer) => answer.agents),
    ]);
    return checkRows({ serverChecks, latest, agents });
  }

  async function loadRanges(signal: AbortSignal): Promise<RangeData> {
    const toMs = Date.now();
    const stepSecs = chooseStepSecs(PRESETS[state.range], BUCKETS);
    const query = (metric: string) =>
      api<MetricsAnswer>("/metrics", {
        metric,
        from: toMs - PRESETS[state.range],
        to: toMs,
        step: `${stepSecs}s`,
      }, signal);
    const [upAnswer, durationAnswer] = await Promise.all([
      query("check.up"),
      query("check.duration_seconds"),
    ]);
    const fromMs = Date.parse(upAnswer.from);
    const stepMs = stepSecs * 1000;
    const count = Math.floor((toMs - fromMs) / stepMs) + 1;
    const indexOf = (timestamp: string) => Math.floor((Date.parse(timestamp) - fromMs) / stepMs);
    const data: RangeData = { fromMs, stepMs, count, up: new Map(), duration: new Map() };
    for (const one of upAnswer.series) {
      const buckets: (UpBucket & { count: number } | null)[] = new Array(count).fill(null);
      for (const p of one.points) buckets[indexOf(p.timestamp)] = p;
      data.up.set(rowKey(one.agent_id, one.labels.check ?? "", one.labels.target ?? ""), buckets);
    }
    for (const one of durationAnswer.series) {
      const values: (number | null)[] = new Array(count).fill(null);
      for (const p of one.points) values[indexOf(p.timestamp)] = p.avg;
      const key = rowKey(one.agent_id, one.labels.check ?? "", one.labels.target ?? "");
      data.duration.set(key, values);
    }
    return data;
  }

  async function loadCerts(signal: AbortSignal) {
    const [domains, status] = await Promise.all([
      orEmpty(
        api<CertDomainsAnswer>("/certs/domains", { limit: MAX_DOMAINS }, signal),
        { total: 0, limit: MAX_DOMAINS, offset: 0, domains: [] },
      ),
      orEmpty(api<CertStatusAnswer>("/certs/status", {}, signal), { count: 0, results: [] }),
    ]);
    certsTotal = domains.total;
    return certRows(domains.domains, status.results, expiryThresholds(rules?.rules));
  }

  async function load() {
    clearTimeout(timer);
    const signal = loads.start();
    const started = performance.now();
    if (!rules) {
      rules = await orEmpty(api<RulesAnswer>("/alerts/rules", {}, signal), { rules: [] })
        .catch(() => undefined);
      if (signal.aborted) return;
    }
    const settle = async <T>(work: Promise<T>, kind: keyof typeof errors) => {
      try {
        const value = await work;
        errors[kind] = "";
        return value;
      } catch (e) {
        if (!signal.aborted) errors[kind] = (e as Error).message;
        return undefined;
      }
    };
    const [checkAnswer, certAnswer, rangeAnswer] = await Promise.all([
      settle(loadChecks(signal), "checks"),
      settle(loadCerts(signal), "certs"),
      settle(loadRanges(signal), "range"),
    ]);
    if (signal.aborted) return;
    checks = checkAnswer ?? checks;
    certs = certAnswer ?? certs;
    ranges = rangeAnswer ?? ranges;
    render();
    root.dataset.loadedMs = String(Math.round(performance.now() - started));
    root.dataset.ready = "true";
    timer = setTimeout(load, REFRESH_MS);
  }

  view.onLeave(() => clearTimeout(timer));
  render();
  load();
}
