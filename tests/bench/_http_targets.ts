/**
 * HTTP targets for the checks benchmark, in their own process so their CPU is not counted as
 * the checker's: `deno run -A _http_targets.ts N` serves on N loopback ports and prints them.
 */
const count = Number(Deno.args[0] ?? 4);
const ports: number[] = [];
for (let i = 0; i < count; i++) {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("ok"),
  );
  ports.push(server.addr.port);
}
console.log(JSON.stringify(ports));
