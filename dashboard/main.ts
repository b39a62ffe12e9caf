/**
 * The dashboard's entry: the page frame, the router (state lives in the URL hash) and the
 * signed-out state. Bundled by `deno task dashboard` into server/dashboard/assets.gen.ts.
 */
import { api, setUnauthorizedHandler } from "./api.ts";
import { h, message, replace } from "./dom.ts";
import { agentPage } from "./pages/agent.ts";
import { alertsPage } from "./pages/alerts.ts";
import { certPage } from "./pages/cert.ts";
import { checkPage } from "./pages/check.ts";
import { checksPage } from "./pages/checks.ts";
import { overviewPage } from "./pages/overview.ts";
import { parseRoute } from "./route.ts";
import type { HealthAnswer } from "./types.ts";
import { View } from "./view.ts";

const view = h("main", { id: "view", tabindex: "-1" });
const meta = h("span", { className: "meta", id: "meta" }, "connecting…");
const navLinks = {
  overview: h("a", { href: "#/" }, "Fleet"),
  checks: h("a", { href: "#/checks" }, "Checks"),
  alerts: h("a", { href: "#/alerts" }, "Alerts"),
};
document.body.append(
  h("a", { className: "skip", href: "#view", onclick: skipToContent }, "Skip to content"),
  h(
    "header",
    { className: "top" },
    h("h1", {}, h("a", { href: "#/" }, "oxmon")),
    h("nav", { "aria-label": "Main" }, navLinks.overview, navLinks.checks, navLinks.alerts),
    meta,
  ),
  view,
);

function skipToContent(event: Event) {
  event.preventDefault();
  view.focus();
}

let current: View | undefined;
let renderedHash: string | undefined;
let signedOut = false;

function render(force = false) {
  if (!force && location.hash === renderedHash) return;
  renderedHash = location.hash;
  current?.leave();
  current = undefined;
  delete view.dataset.ready;
  delete view.dataset.drawn;
  delete view.dataset.drawnMs;
  const route = parseRoute(location.hash);
  navLinks.overview.toggleAttribute("aria-current", route.page === "overview");
  navLinks.checks.toggleAttribute(
    "aria-current",
    route.page === "checks" || route.page === "check" || route.page === "cert",
  );
  navLinks.alerts.toggleAttribute("aria-current", route.page === "alerts");
  if (signedOut) return showSignedOut();
  current = new View(view);
  switch (route.page) {
    case "overview":
      overviewPage(current, route.params);
      document.title = "oxmon · fleet";
      break;
    case "agent":
      agentPage(current, route.agentId, route.params);
      document.title = `oxmon · ${route.agentId}`;
      break;
    case "alerts":
      alertsPage(current, route.params);
      document.title = "oxmon · alerts";
      break;
    case "checks":
      checksPage(current, route.params);
      document.title = "oxmon · checks";
      break;
    case "check":
      checkPage(current, route.agentId, route.name, route.params);
      document.title = `oxmon · check ${route.name}`;
      break;
    case "cert":
      certPage(current, route.domain, route.port, route.params);
      document.title = `oxmon · certificate ${route.domain}`;
      break;
    default:
      replace(
        view,
        message(
          "error",
          `There is no page at "${route.path}". `,
          h("a", { href: "#/" }, "Go to the fleet overview"),
        ),
      );
      view.dataset.ready = "true";
  }
}

/** A 401 from any request: the server wants a signed-in user. */
function showSignedOut() {
  current?.leave();
  current = undefined;
  replace(
    view,
    h(
      "section",
      { className: "card signin", id: "signin" },
      h("h2", {}, "Sign-in required"),
      h("p", {}, "This oxmon server answers only signed-in users."),
      h("button", {
        type: "button",
        onclick: () => {
          signedOut = false;
          render(true);
        },
      }, "Try again"),
    ),
  );
  view.dataset.ready = "true";
}

setUnauthorizedHandler(() => {
  if (signedOut) return;
  signedOut = true;
  showSignedOut();
});

async function loadMeta() {
  try {
    const health = await api<HealthAnswer>("/health");
    meta.textContent =
      `v${health.version} · ${health.agent_count} agents · storage ${health.storage_status}`;
  } catch (e) {
    meta.textContent = (e as Error).message;
  }
}

addEventListener("hashchange", () => render());
// Back and forward through ranges the agent page pushed: the hash may equal the one last
// rendered while the view shows a later range, so always render (hashchange, which follows,
// then sees the same hash and does nothing).
addEventListener("popstate", () => render(true));
// The charts read their colours from CSS variables: redraw when the system theme flips.
matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => render(true));
render();
loadMeta();
setInterval(loadMeta, 30_000);
