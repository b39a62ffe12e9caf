/**
 * Test certificates made with `openssl` for real TLS peers: a root CA and leaves that are valid,
 * expired, expiring in 5 days, for the wrong host, self-signed, and one signed by an
 * intermediate CA that the server can send with or without its chain. EC P-256 keys (fast to
 * make) except the self-signed one, which is RSA 2048 so both key types are seen.
 */
import { join } from "node:path";
import { MS_PER_DAY, MS_PER_HOUR } from "../../shared/time.ts";

export interface CertPair {
  /** PEM of the certificate (with the chain, where the server should send one). */
  cert: string;
  key: string;
  /** When the leaf expires, epoch ms. */
  notAfterMs: number;
}

export interface TestPki {
  dir: string;
  /** Path of the root CA's PEM (trust it with `tls_ca_file` / `ca_file`). */
  caFile: string;
  caPem: string;
  valid: CertPair;
  expired: CertPair;
  expiresIn5Days: CertPair;
  wrongHost: CertPair;
  selfSigned: CertPair;
  /** Leaf signed by an intermediate; the server sends the leaf alone. */
  incompleteChain: CertPair;
  /** The same leaf with its intermediate. */
  fullChain: CertPair;
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
[any]
commonName = supplied
[localhost]
subjectAltName = DNS:localhost,IP:127.0.0.1
basicConstraints = CA:FALSE
[other]
subjectAltName = DNS:other.example
basicConstraints = CA:FALSE
[intermediate]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
`;

async function openssl(dir: string, args: string[]): Promise<void> {
  const output = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!output.success) {
    throw new Error(`openssl ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr)}`);
  }
}

/** `YYYYMMDDHHMMSSZ` as `openssl ca -startdate/-enddate` takes it. */
function asn1Time(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, "").replace(/\.\d+Z$/, "Z");
}

export async function makeTestPki(): Promise<TestPki> {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-pki-" });
  const read = (name: string) => Deno.readTextFile(join(dir, name));
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
  await ecKey("ca.key");
  await openssl(dir, [
    "req",
    "-x509",
    "-new",
    "-key",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "3650",
    "-subj",
    "/CN=oxmon Test Root/O=oxmon tests",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]); // deno-fmt-ignore
  const nowMs = Date.now();
  const sign = async (
    name: string,
    options: { cn: string; ext: string; fromMs: number; toMs: number; ca?: string },
  ): Promise<CertPair> => {
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
    ]);
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
      asn1Time(options.fromMs),
      "-enddate",
      asn1Time(options.toMs),
    ]); // deno-fmt-ignore
    // Certificates are whole seconds.
    return {
      cert: await read(`${name}.pem`),
      key: await read(`${name}.key`),
      notAfterMs: Math.floor(options.toMs / 1000) * 1000,
    };
  };
  const dayAgo = nowMs - MS_PER_DAY;
  const valid = await sign("valid", {
    cn: "localhost",
    ext: "localhost",
    fromMs: dayAgo,
    toMs: nowMs + 90 * MS_PER_DAY,
  });
  const expired = await sign("expired", {
    cn: "localhost",
    ext: "localhost",
    fromMs: nowMs - 60 * MS_PER_DAY,
    toMs: nowMs - 2 * MS_PER_DAY,
  });
  const expiresIn5Days = await sign("soon", {
    cn: "localhost",
    ext: "localhost",
    fromMs: dayAgo,
    toMs: nowMs + 5 * MS_PER_DAY + MS_PER_HOUR,
  });
  const wrongHost = await sign("other", {
    cn: "other.example",
    ext: "other",
    fromMs: dayAgo,
    toMs: nowMs + 90 * MS_PER_DAY,
  });
  const intermediate = await sign("intermediate", {
    cn: "oxmon Test Intermediate",
    ext: "intermediate",
    fromMs: dayAgo,
    toMs: nowMs + 365 * MS_PER_DAY,
  });
  const chained = await sign("chained", {
    cn: "localhost",
    ext: "localhost",
    fromMs: dayAgo,
    toMs: nowMs + 30 * MS_PER_DAY,
    ca: "intermediate",
  });
  await openssl(dir, [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "self.key",
    "-out",
    "self.pem",
    "-days",
    "20",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
  ]); // deno-fmt-ignore
  const selfPem = await read("self.pem");
  return {
    dir,
    caFile: join(dir, "ca.pem"),
    caPem: await read("ca.pem"),
    valid,
    expired,
    expiresIn5Days,
    wrongHost,
    selfSigned: {
      cert: selfPem,
      key: await read("self.key"),
      notAfterMs: await notAfterOf(dir, "self.pem"),
    },
    incompleteChain: chained,
    fullChain: { ...chained, cert: chained.cert + intermediate.cert },
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}

/** The certificate's notAfter as openssl prints it, as epoch ms. */
async function notAfterOf(dir: string, file: string): Promise<number> {
  const output = await new Deno.Command("openssl", {
    args: ["x509", "-noout", "-enddate", "-in", file],
    cwd: dir,
    stdout: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim().replace(/^notAfter=/, "");
  return Date.parse(text.replace(/ GMT$/, " UTC"));
}
