/**
 * A real DNS server for tests: Debian's dnsmasq on 127.0.0.1 and a free port, answering only
 * the records given (no upstream, no /etc/hosts). `.ci/run` installs `dnsmasq-base`.
 */
export interface DnsServer {
  port: number;
  stop(): Promise<void>;
}

export interface DnsRecords {
  /** `name → address` (A or AAAA by the address's form). */
  hosts?: Record<string, string>;
  /** `name → text`. */
  txt?: Record<string, string>;
  /** `name → [exchange, preference]`. */
  mx?: Record<string, [string, number]>;
  /** `alias → target`. */
  cname?: Record<string, string>;
}

function freeTcpPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

export async function startDnsmasq(records: DnsRecords): Promise<DnsServer> {
  // A port free for TCP may be taken for UDP: dnsmasq then exits, and another port is tried.
  for (let attempt = 1;; attempt++) {
    try {
      return await startOn(freeTcpPort(), records);
    } catch (error) {
      if (attempt >= 5 || !(error instanceof PortTakenError)) throw error;
    }
  }
}

class PortTakenError extends Error {}

async function startOn(port: number, records: DnsRecords): Promise<DnsServer> {
  const args = [
    "--keep-in-foreground",
    `--port=${port}`,
    "--listen-address=127.0.0.1",
    "--bind-interfaces",
    "--no-resolv",
    "--no-hosts",
    "--conf-file=/dev/null",
    "--pid-file=",
    "--user=root",
    "--log-facility=-",
  ];
  for (const [name, address] of Object.entries(records.hosts ?? {})) {
    args.push(`--host-record=${name},${address}`);
  }
  for (const [name, text] of Object.entries(records.txt ?? {})) {
    args.push(`--txt-record=${name},${text}`);
  }
  for (const [name, [exchange, preference]] of Object.entries(records.mx ?? {})) {
    args.push(`--mx-host=${name},${exchange},${preference}`);
  }
  for (const [alias, target] of Object.entries(records.cname ?? {})) {
    args.push(`--cname=${alias},${target}`);
  }
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("dnsmasq", { args, stdout: "null", stderr: "piped" }).spawn();
  } catch (error) {
    throw new Error(
      `Cannot start dnsmasq (apt-get install dnsmasq-base; .ci/run does): ${error}`,
      { cause: error },
    );
  }
  // Ready once it logs "started" (a query sent before it listens costs the resolver a 5 s
  // timeout later on, measured); its log is read to the end so it never blocks on the pipe.
  const started = Promise.withResolvers<boolean>();
  const drained = (async () => {
    let log = "";
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
      if (log.length < 10_000) log += text;
      if (log.includes("started,")) started.resolve(true);
    }
    started.resolve(false);
  })();
  const timer = setTimeout(() => started.resolve(false), 5_000);
  const ok = await started.promise;
  clearTimeout(timer);
  if (!ok) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
    await drained;
    throw new PortTakenError(`dnsmasq did not start on port ${port}`);
  }
  return {
    port,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await drained;
    },
  };
}
