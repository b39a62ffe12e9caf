import assert from "node:assert/strict";
import { stopSignalHandler, stopSignals } from "./stop_signals.ts";

Deno.test("a stop signal repeated within the window is the same request; a later one forces", () => {
  let now = 1_000;
  const calls: string[] = [];
  const handle = stopSignalHandler({
    onStop: (signal) => calls.push(`stop ${signal}`),
    onRepeat: (signal) => calls.push(`repeat ${signal}`),
    onForce: (signal) => calls.push(`force ${signal}`),
    repeatWindowMs: 1_000,
    now: () => now,
  });
  handle("SIGINT");
  now += 5; // the terminal's SIGINT, then the demo's forwarded SIGTERM
  handle("SIGTERM");
  now += 994;
  handle("SIGINT");
  now += 1;
  handle("SIGINT");
  assert.deepEqual(calls, ["stop SIGINT", "repeat SIGTERM", "repeat SIGINT", "force SIGINT"]);
});

Deno.test("Windows listens for SIGINT only; other systems for SIGINT and SIGTERM", () => {
  assert.deepEqual(stopSignals("windows"), ["SIGINT"]);
  assert.deepEqual(stopSignals("linux"), ["SIGINT", "SIGTERM"]);
});

Deno.test({
  name: "a stop signal after the program stopped neither kills it nor forces anything",
  ignore: Deno.build.os === "windows",
  async fn() {
    // A program that has stopped and is about to exit (here: until its stdin closes) gets the
    // forwarded copies of Ctrl-C late; without a listener the first one would end it with 143.
    const program = `
      import { onStopSignals } from ${JSON.stringify(import.meta.resolve("./stop_signals.ts"))};
      const stopped = onStopSignals({
        onStop: (signal) => console.log("stop", signal),
        onRepeat: (signal) => console.log("ignored", signal),
        onForce: (signal) => console.log("force", signal),
      });
      stopped();
      console.log("stopped");
      for await (const _ of Deno.stdin.readable);
      Deno.exit(0);
    `;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", program],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let output = "";
    const until = async (text: string) => {
      while (!output.includes(text)) {
        const { value, done } = await lines.read();
        if (done) break;
        output += value;
      }
    };
    await until("stopped\n");
    child.kill("SIGTERM");
    await until("ignored SIGTERM\n");
    child.kill("SIGINT");
    await until("ignored SIGINT\n");
    await child.stdin.close();
    await until("\0"); // to the end of its output
    const { code, signal } = await child.status;
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, output);
    assert.equal(output, "stopped\nignored SIGTERM\nignored SIGINT\n");
  },
});
