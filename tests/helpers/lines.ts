/**
 * The lines of a UTF-8 stream without their `\n`, for JSON-lines talk with child processes. A
 * last line without its `\n` (a child that died while writing it) is dropped.
 */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let pending = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    let end: number;
    while ((end = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, end);
      pending = pending.slice(end + 1);
    }
  }
}

/** A Node.js child that takes JSON lines on stdin: its process, its stderr text, and `send`. */
export interface JsonLinesChild {
  child: Deno.ChildProcess;
  /** Everything the child wrote to stderr, once it has exited. */
  stderr: Promise<string>;
  stdin: WritableStreamDefaultWriter<Uint8Array>;
  /** Writes one JSON line; a child that is gone is not an error here (its exit is). */
  send(message: unknown): Promise<void>;
}

/** Starts `node ...args` with piped stdio for JSON-lines talk (read its stdout with readLines). */
export function spawnJsonLinesChild(args: string[]): JsonLinesChild {
  const child = new Deno.Command("node", {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdin = child.stdin.getWriter();
  const encoder = new TextEncoder();
  return {
    child,
    stderr: new Response(child.stderr).text(),
    stdin,
    send: (message) => stdin.write(encoder.encode(`${JSON.stringify(message)}\n`)).catch(() => {}),
  };
}
