/**
 * Headless Chromium for the dashboard tests and benchmarks: Debian's /usr/bin/chromium driven by
 * playwright-core, with a fresh profile that is removed on close, and nothing that reaches out.
 */
import { type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

export const haveChromium: boolean = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(
  viewport = { width: 1280, height: 900 },
): Promise<Browser> {
  const profileDir = await Deno.makeTempDir({ prefix: "oxmon-chromium-" });
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      await Deno.remove(profileDir, { recursive: true });
    },
  };
}

/**
 * The browser's first page, watched: every request that leaves `origin` (data: URLs aside) goes
 * into `outside`, every console error and uncaught page error into `problems`.
 */
export async function watchPage(
  browser: Browser,
  origin: string,
): Promise<{ page: Page; outside: string[]; problems: string[] }> {
  const outside: string[] = [];
  const problems: string[] = [];
  browser.context.on("request", (request) => {
    if (!request.url().startsWith(origin + "/") && !request.url().startsWith("data:")) {
      outside.push(request.url());
    }
  });
  const page = browser.context.pages()[0] ?? await browser.context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(error.message));
  return { page, outside, problems };
}

/** Starts `deno run -A agent/main.ts` reporting to `grpcPort` every second. */
export function spawnAgent(
  agentId: string,
  grpcPort: number,
  configPath?: string,
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../../agent/main.ts", import.meta.url).pathname,
      ...(configPath ? ["--config", configPath] : []),
      "--server",
      `127.0.0.1:${grpcPort}`,
      "--agent-id",
      agentId,
      "--interval",
      "1",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}
