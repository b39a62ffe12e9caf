/**
 * Certificates made with `openssl` for the TLS and mutual-TLS tests: a CA and a second,
 * unrelated CA; server certificates for localhost/127.0.0.1 (two, for reload tests) and for
 * another host; client certificates for agent ids, one from the other CA and one expired.
 * EC P-256 keys: fast to make.
 */
import { join } from "node:path";

export interface CertFiles {
  cert: string;
  key: string;
}

export interface TestCerts {
  dir: string;
  /** The CA that signs everything below except `otherCaClient`. */
  caFile: string;
  otherCaFile: string;
  server: CertFiles;
  /** Another certificate for the same names, to see a reload take effect. */
  serverRenewed: CertFiles;
  /** For `other.example` only. */
  wrongHostServer: CertFiles;
  /** CN and DNS name `agent-a`. */
  clientA: CertFiles;
  /** CN and DNS name `agent-b`. */
  clientB: CertFiles;
  /** CN `agent-a`, signed by the other CA. */
  otherCaClient: CertFiles;
  /** CN `agent-a`, expired two days ago. */
  expiredClient: CertFiles;
  /** The certificate's serial as openssl prints it, for telling two apart. */
  serialOf(certFile: string): Promise<string>;
  remove(): Promise<void>;
}

const CA_CONFIG = `[ca]
default_ca = the_ca
[the_ca]
dir = .
database = ./index.txt
new_certs_dir = .
serial = ./serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
[server]
subjectAltName = DNS:localhost,IP:127.0.0.1
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
[other_host]
subjectAltName = DNS:other.example
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
[client_a]
subjectAltName = DNS:agent-a
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
[client_b]
subjectAltName = DNS:agent-b
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
`;

async function openssl(dir: string, args: string[]): Promise<string> {
  const output = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`openssl ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  return new TextDecoder().decode(output.stdout);
}

function asn1Time(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, "").replace(/\.\d+Z$/, "Z");
}

const DAY_MS = 86_400_000;

export async function makeTestCerts(): Promise<TestCerts> {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-certs-" });
  await Deno.writeTextFile(join(dir, "ca.cnf"), CA_CONFIG);
  await Deno.writeTextFile(join(dir, "index.txt"), "");
  await Deno.writeTextFile(join(dir, "serial"), "1000\n");
  const ecKey = (name: string) =>
    openssl(dir, [
      "genpkey",
      "-algorithm",
      "EC",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-out",
      name,
    ]);
  const makeCa = async (name: string, cn: string) => {
    await ecKey(`${name}.key`);
    await openssl(dir, [
      "req",
      "-x509",
      "-new",
      "-key",
      `${name}.key`,
      "-out",
      `${name}.pem`,
      "-days",
      "3650",
      "-subj",
      `/CN=${cn}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]); // deno-fmt-ignore
  };
  await makeCa("ca", "oxmon Test CA");
  await makeCa("other-ca", "Unrelated Test CA");
  const nowMs = Date.now();
  const sign = async (
    name: string,
    options: { cn: string; ext: string; ca?: string; fromMs?: number; toMs?: number },
  ): Promise<CertFiles> => {
    await ecKey(`${name}.key`);
    await openssl(dir, [
      "req",
      "-new",
      "-key",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=${options.cn}`,
    ]); // deno-fmt-ignore
    const ca = options.ca ?? "ca";
    await openssl(dir, [
      "ca",
      "-batch",
      "-notext",
      "-config",
      "ca.cnf",
      "-cert",
      `${ca}.pem`,
      "-keyfile",
      `${ca}.key`,
      "-in",
      `${name}.csr`,
      "-out",
      `${name}.pem`,
      "-extensions",
      options.ext,
      "-startdate",
      asn1Time(options.fromMs ?? nowMs - DAY_MS),
      "-enddate",
      asn1Time(options.toMs ?? nowMs + 90 * DAY_MS),
    ]); // deno-fmt-ignore
    return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
  };
  const server = await sign("server", { cn: "localhost", ext: "server" });
  const serverRenewed = await sign("server-renewed", { cn: "localhost", ext: "server" });
  const wrongHostServer = await sign("other-host", { cn: "other.example", ext: "other_host" });
  const clientA = await sign("client-a", { cn: "agent-a", ext: "client_a" });
  const clientB = await sign("client-b", { cn: "agent-b", ext: "client_b" });
  const otherCaClient = await sign("other-ca-client", {
    cn: "agent-a",
    ext: "client_a",
    ca: "other-ca",
  });
  const expiredClient = await sign("expired-client", {
    cn: "agent-a",
    ext: "client_a",
    fromMs: nowMs - 60 * DAY_MS,
    toMs: nowMs - 2 * DAY_MS,
  });
  return {
    dir,
    caFile: join(dir, "ca.pem"),
    otherCaFile: join(dir, "other-ca.pem"),
    server,
    serverRenewed,
    wrongHostServer,
    clientA,
    clientB,
    otherCaClient,
    expiredClient,
    serialOf: async (certFile) =>
      (await openssl(dir, ["x509", "-noout", "-serial", "-in", certFile])).trim(),
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}
