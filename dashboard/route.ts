/** The page's state lives in the URL hash, so a link (or reload) shows the same view. */

export type Route =
  | { page: "overview"; params: URLSearchParams }
  | { page: "agent"; agentId: string; params: URLSearchParams }
  | { page: "alerts"; params: URLSearchParams }
  | { page: "checks"; params: URLSearchParams }
  | { page: "check"; agentId: string; name: string; params: URLSearchParams }
  | { page: "cert"; domain: string; port: number; params: URLSearchParams }
  | { page: "unknown"; path: string; params: URLSearchParams };

export function parseRoute(hash: string): Route {
  const text = hash.replace(/^#/, "");
  const queryAt = text.indexOf("?");
  const path = queryAt < 0 ? text : text.slice(0, queryAt);
  const params = new URLSearchParams(queryAt < 0 ? "" : text.slice(queryAt + 1));
  if (path === "" || path === "/") return { page: "overview", params };
  if (path === "/alerts") return { page: "alerts", params };
  if (path === "/checks") return { page: "checks", params };
  try {
    const agent = /^\/agent\/(.+)$/.exec(path);
    if (agent) return { page: "agent", agentId: decodeURIComponent(agent[1]), params };
    const check = /^\/checks\/check\/([^/]+)\/([^/]+)$/.exec(path);
    if (check) {
      return {
        page: "check",
        agentId: decodeURIComponent(check[1]),
        name: decodeURIComponent(check[2]),
        params,
      };
    }
    const cert = /^\/checks\/cert\/([^/:]+)(?::(\d+))?$/.exec(path);
    if (cert) {
      const port = cert[2] === undefined ? 443 : Number(cert[2]);
      if (port >= 1 && port <= 65535) {
        return { page: "cert", domain: decodeURIComponent(cert[1]), port, params };
      }
    }
  } catch {
    // A malformed percent-escape: no page has that address.
  }
  return { page: "unknown", path, params };
}

export function agentHref(agentId: string, params: Record<string, string> = {}): string {
  const query = new URLSearchParams(params).toString();
  return `#/agent/${encodeURIComponent(agentId)}${query ? "?" + query : ""}`;
}

/** One check's charts; `agentId` is `oxmon-server` for the server's checks. */
export function checkHref(
  agentId: string,
  name: string,
  params: Record<string, string> = {},
): string {
  const query = new URLSearchParams(params).toString();
  return `#/checks/check/${encodeURIComponent(agentId)}/${encodeURIComponent(name)}${
    query ? "?" + query : ""
  }`;
}

/** One certificate domain's details and history. */
export function certHref(domain: string, port: number): string {
  return `#/checks/cert/${encodeURIComponent(domain)}${port === 443 ? "" : `:${port}`}`;
}

export function hrefWith(path: string, params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== "") search.set(name, value);
  }
  const query = search.toString();
  return `#${path}${query ? "?" + query : ""}`;
}

/** Changes the URL without adding a history entry per refresh or zoom. */
export function replaceHash(hash: string): void {
  if (location.hash === hash) return;
  history.replaceState(null, "", hash);
}
