/** The page's state lives in the URL hash, so a link (or reload) shows the same view. */

export type Route =
  | { page: "overview"; params: URLSearchParams }
  | { page: "agent"; agentId: string; params: URLSearchParams }
  | { page: "alerts"; params: URLSearchParams }
  | { page: "unknown"; path: string; params: URLSearchParams };

export function parseRoute(hash: string): Route {
  const text = hash.replace(/^#/, "");
  const queryAt = text.indexOf("?");
  const path = queryAt < 0 ? text : text.slice(0, queryAt);
  const params = new URLSearchParams(queryAt < 0 ? "" : text.slice(queryAt + 1));
  if (path === "" || path === "/") return { page: "overview", params };
  if (path === "/alerts") return { page: "alerts", params };
  const agent = /^\/agent\/(.+)$/.exec(path);
  if (agent) {
    try {
      return { page: "agent", agentId: decodeURIComponent(agent[1]), params };
    } catch {
      return { page: "unknown", path, params };
    }
  }
  return { page: "unknown", path, params };
}

export function agentHref(agentId: string, params: Record<string, string> = {}): string {
  const query = new URLSearchParams(params).toString();
  return `#/agent/${encodeURIComponent(agentId)}${query ? "?" + query : ""}`;
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
