/**
 * Serves the dashboard: `/` (a small HTML shell) and its two assets under content-hashed names,
 * gzip-compressed when the browser accepts it. The page loads nothing from anywhere else, which
 * its Content-Security-Policy enforces.
 */
import { gzipSync } from "node:zlib";
import type { Hono } from "hono";
import { errorBody } from "../api/errors.ts";
import { routeApp } from "../api/routes.ts";
import { DASHBOARD_CSS, DASHBOARD_JS } from "./assets.gen.ts";

export const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; " +
  "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; " +
  "frame-ancestors 'none'";

/** FNV-1a, 32 bits: names the asset versions so a browser may cache them forever. */
function contentHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, "0");
}

interface Asset {
  type: string;
  body: Uint8Array;
  /** Compressed on first use. */
  gzipped?: Uint8Array;
}

export interface DashboardRouteOptions {
  js?: string;
  css?: string;
}

export function createDashboardRoutes(options: DashboardRouteOptions = {}): Hono {
  const js = options.js ?? DASHBOARD_JS;
  const css = options.css ?? DASHBOARD_CSS;
  const version = contentHash(js + css);
  const encoder = new TextEncoder();
  const assets = new Map<string, Asset>([
    [`app.${version}.js`, { type: "text/javascript; charset=utf-8", body: encoder.encode(js) }],
    [`app.${version}.css`, { type: "text/css; charset=utf-8", body: encoder.encode(css) }],
  ]);
  const html = encoder.encode(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>oxmon</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/app.${version}.css">
<script defer src="assets/app.${version}.js"></script>
</head>
<body>
<noscript>The oxmon dashboard needs JavaScript. The REST API is under /api/v1.</noscript>
</body>
</html>
`);
  assets.set("", { type: "text/html; charset=utf-8", body: html });

  const send = (accept: string | undefined, asset: Asset, headers: Record<string, string>) => {
    const gzip = /\bgzip\b/.test(accept ?? "");
    if (gzip) asset.gzipped ??= gzipSync(asset.body);
    const body = gzip ? asset.gzipped! : asset.body;
    return new Response(body as Uint8Array<ArrayBuffer>, {
      headers: {
        "content-type": asset.type,
        "vary": "accept-encoding",
        ...(gzip ? { "content-encoding": "gzip" } : {}),
        ...headers,
      },
    });
  };

  return routeApp([
    {
      method: "get",
      path: "/",
      summary: "The dashboard",
      description: "A small HTML shell that loads the dashboard's script and style from " +
        "`/assets/`; the page's state (fleet, agent, alerts) lives in the URL fragment.",
      responses: { 200: "the page (gzip-compressed when the browser accepts it)" },
      contentType: "text/html",
      handler: (c) =>
        send(c.req.header("accept-encoding"), assets.get("")!, {
          "content-security-policy": DASHBOARD_CSP,
          "cache-control": "no-cache",
          "x-content-type-options": "nosniff",
        }),
    },
    {
      method: "get",
      path: "/assets/:name",
      summary: "The dashboard's script or style",
      description: "Named by a hash of their content (`app.<hash>.js`, `app.<hash>.css`), so " +
        "a browser may keep them for good: a new build gets new names.",
      pathParams: { name: "asset name, as the page links it" },
      responses: {
        200: "the asset (gzip-compressed when the browser accepts it), cacheable for a year",
        404: "no asset of this name (an older or newer build's)",
      },
      contentType: ["text/javascript", "text/css"],
      handler: (c) => {
        const name = c.req.param("name")!;
        const asset = assets.get(name);
        if (!asset) {
          return c.json(errorBody("not_found", `Unknown dashboard asset "${name}"`), 404);
        }
        return send(c.req.header("accept-encoding"), asset, {
          "cache-control": "public, max-age=31536000, immutable",
          "x-content-type-options": "nosniff",
        });
      },
    },
  ]);
}
