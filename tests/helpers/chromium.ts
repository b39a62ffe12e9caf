/**
 * Headless Chromium for the dashboard tests and benchmarks: Debian's /usr/bin/chromium driven by
 * playwright-core, with a fresh profile that is removed on close, and nothing that reaches out.
 */
import { type BrowserContext, chromium } from "playwright-core";

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
