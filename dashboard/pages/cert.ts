/**
 * One certificate domain: the newest result with everything the checker recorded (why it is
 * invalid, dates, issuer, names, chain, key, fingerprint), days left across its history, and the
 * history itself, newest first, marking where a new certificate appeared.
 */
import { api, ApiError } from "../api.ts";
import { ChartCard } from "../chart.ts";
import { domainLabel } from "../checks_model.ts";
import { h, message, replace } from "../dom.ts";
import { formatAgo, formatTime, formatValue } from "../format.ts";
import type { CertDomain, CertDomainsAnswer, CertHistoryAnswer, CertResult } from "../types.ts";
import { Loads, type View } from "../view.ts";
import { pagerOf } from "./alerts.ts";

const HISTORY_PAGE = 25;
/** Results drawn in the days-left chart. */
const CHART_RESULTS = 500;
const REFRESH_MS = 30_000;

export function certPage(
  view: View,
  domainName: string,
  port: number,
  params: URLSearchParams,
): void {
  const root = view.root;
  const label = domainLabel({ domain: domainName, port });
  let historyPage = Math.max(0, Number(params.get("page") ?? 1) - 1 || 0);
  let domain: CertDomain | undefined;
  let timer: number | undefined;
  const loads = new Loads(view);
  /** The history table's loads: a refresh's and the pager's, whichever started last wins. */
  const historyLoads = new Loads(view);

  const title = h("h2", { id: "cert-title" }, label);
  const info = h("p", { className: "sysinfo", id: "cert-info" });
  const details = h("section", {
    className: "card",
    id: "cert-details",
    "aria-labelledby": "h-cert-details",
  });
  const chart = new ChartCard({ id: "cert-days", title: "Days until expiry", unit: "days" });
  const historyBox = h("div", { className: "table-wrap" });
  const historyPager = h("nav", { className: "pager", "aria-label": "History pages" });
  const historyTitle = h("h3", { id: "h-cert-history" }, "History");
  replace(
    root,
    h("a", { href: "#/checks", className: "back" }, "← Checks"),
    title,
    info,
    details,
    h("div", { className: "charts single" }, chart.element),
    h(
      "section",
      { className: "card", id: "cert-history", "aria-labelledby": "h-cert-history" },
      historyTitle,
      historyBox,
      historyPager,
    ),
  );

  /** The domain's id: the routes that list results take it, the URL names the domain. */
  async function findDomain(signal: AbortSignal): Promise<CertDomain | undefined> {
    const answer = await api<CertDomainsAnswer>(
      "/certs/domains",
      { search: domainName, limit: 1000 },
      signal,
    );
    return answer.domains.find((one) => one.domain === domainName && one.port === port);
  }

  function renderDetails(result: CertResult | null) {
    if (!result) {
      replace(
        details,
        h("h3", { id: "h-cert-details" }, "Newest result"),
        message("info", "Not checked yet: the first check runs within a minute of adding it."),
      );
      return;
    }
    const checkedMs = Date.parse(result.checked_at);
    const row = (
      term: string,
      ...value: (string | Node)[]
    ) => [h("dt", {}, term), h("dd", {}, value)];
    const yesNo = (value: boolean | null) => value === null ? "not checked" : value ? "yes" : "no";
    replace(
      details,
      h("h3", { id: "h-cert-details" }, "Newest result"),
      h(
        "dl",
        { className: "facts" },
        row(
          "Status",
          h(
            "b",
            { className: result.is_valid ? "ok" : "bad" },
            result.is_valid ? "valid" : "invalid",
          ),
          result.error ? ` — ${result.error}` : "",
        ),
        row("Days left", formatValue(result.days_until_expiry, "days")),
        row(
          "Valid",
          result.not_before && result.not_after
            ? `${formatTime(Date.parse(result.not_before))} to ${
              formatTime(Date.parse(result.not_after))
            }`
            : "–",
        ),
        row("Chain trusted", yesNo(result.chain_valid)),
        row("Host name matches", yesNo(result.hostname_valid)),
        row("Issuer", result.issuer ?? "–"),
        row("Subject", result.subject ?? "–"),
        row("Names", result.san_list?.join(", ") || "–"),
        row(
          "Chain",
          result.chain?.length
            ? h("ol", { className: "chain" }, result.chain.map((subject) => h("li", {}, subject)))
            : "–",
        ),
        row("Key", result.key_type ? `${result.key_type} ${result.key_bits ?? "?"} bits` : "–"),
        row("Serial number", h("code", {}, result.serial_number ?? "–")),
        row("SHA-256", h("code", { className: "fingerprint" }, result.fingerprint_sha256 ?? "–")),
        row("TLS", result.tls_version ?? "–"),
        row("Addresses", result.resolved_ips?.join(", ") || "–"),
        row(
          "Checked",
          `${formatTime(checkedMs)} (${formatAgo(checkedMs, Date.now())}), took ${
            formatValue(result.duration_ms / 1000, "seconds")
          }`,
        ),
      ),
    );
  }

  async function loadHistory() {
    if (!domain) return;
    const signal = historyLoads.start();
    let answer: CertHistoryAnswer;
    try {
      answer = await api<CertHistoryAnswer>(
        `/certs/domains/${encodeURIComponent(domain.id)}/history`,
        { limit: HISTORY_PAGE, offset: historyPage * HISTORY_PAGE },
        signal,
      );
    } catch (e) {
      if (signal.aborted) return; // a newer page of it was asked for, or the view left
      throw e;
    }
    historyTitle.textContent = `History (${answer.total})`;
    replace(
      historyBox,
      answer.total === 0 ? message("empty", "No result yet.") : h(
        "table",
        { className: "history cert-history" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Checked", "Status", "Days left", "Why", "Issuer", "Expires", "Certificate"].map((
              title,
            ) => h("th", { scope: "col" }, title)),
          ),
        ),
        h(
          "tbody",
          {},
          answer.results.map((result, i) => {
            const older = answer.results[i + 1];
            // A new certificate: its fingerprint differs from the result before it.
            const renewed = older && result.fingerprint_sha256 &&
              older.fingerprint_sha256 !== result.fingerprint_sha256;
            return h(
              "tr",
              { "data-valid": String(result.is_valid) },
              h("td", {}, formatTime(Date.parse(result.checked_at))),
              h(
                "td",
                { className: `status ${result.is_valid ? "resolved" : "firing"}` },
                result.is_valid ? "valid" : "invalid",
              ),
              h("td", { className: "num" }, formatValue(result.days_until_expiry, "days")),
              h("td", { className: "msg" }, result.error ?? ""),
              h("td", {}, result.issuer ?? "–"),
              h("td", {}, result.not_after ? formatTime(Date.parse(result.not_after)) : "–"),
              h(
                "td",
                {},
                h(
                  "code",
                  { title: result.fingerprint_sha256 ?? "" },
                  result.fingerprint_sha256?.slice(0, 11) ?? "–",
                ),
                renewed ? h("small", { className: "renewed" }, " new") : null,
              ),
            );
          }),
        ),
      ),
    );
    pagerOf(historyPager, answer.total, HISTORY_PAGE, historyPage, (page) => {
      historyPage = page;
      loadHistory().catch(showError);
    });
  }

  async function loadChart(signal: AbortSignal) {
    if (!domain) return;
    const answer = await api<CertHistoryAnswer>(
      `/certs/domains/${encodeURIComponent(domain.id)}/history`,
      { limit: CHART_RESULTS },
      signal,
    );
    const withDays = answer.results.filter((r) => r.days_until_expiry !== null).reverse();
    const times = withDays.map((r) => Date.parse(r.checked_at));
    const nowMs = Date.now();
    chart.update({
      series: withDays.length
        ? [{ label: "days left", times, values: withDays.map((r) => r.days_until_expiry!) }]
        : [],
      fromMs: Math.min(times[0] ?? nowMs - 3_600_000, nowMs - 60_000),
      toMs: nowMs,
      stepMs: 60_000,
      noSeriesText: "No certificate was seen yet (no handshake completed).",
    });
  }

  function showError(e: unknown) {
    if ((e as Error).name === "AbortError") return;
    replace(info, message("error", (e as Error).message));
  }

  async function refresh() {
    clearTimeout(timer);
    const signal = loads.start();
    try {
      domain = await findDomain(signal);
      if (!domain) {
        replace(details, message("error", `${label} is not a monitored certificate domain.`));
        historyTitle.textContent = "History";
        replace(historyBox);
        chart.element.hidden = true;
      } else {
        const latest = await api<CertResult>(
          `/certs/status/${encodeURIComponent(domainName)}`,
          { port },
          signal,
        ).catch((e) => {
          if (e instanceof ApiError && e.status === 404) return null;
          throw e;
        });
        replace(
          title,
          h("span", {
            className: `dot ${latest ? (latest.is_valid ? "valid" : "invalid") : "unchecked"}`,
            "aria-hidden": "true",
          }),
          label,
          h(
            "small",
            {},
            ` ${latest ? (latest.is_valid ? "valid" : "invalid") : "not checked yet"}`,
          ),
        );
        info.textContent = [
          domain.source === "config" ? "listed in the server's config" : "added through the API",
          domain.enabled ? "" : "checks disabled",
          domain.check_interval_secs
            ? `checked every ${formatValue(domain.check_interval_secs, "seconds")}`
            : "checked at the default interval",
          domain.note ?? "",
        ].filter(Boolean).join(" · ");
        renderDetails(latest);
        await Promise.all([loadHistory(), loadChart(signal)]);
      }
    } catch (e) {
      if (signal.aborted) return;
      showError(e);
    }
    if (signal.aborted) return;
    root.dataset.ready = "true";
    timer = setTimeout(refresh, REFRESH_MS);
  }

  view.onLeave(() => {
    clearTimeout(timer);
    chart.destroy();
  });
  refresh();
}
