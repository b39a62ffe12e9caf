/**
 * Every test certificate, made with `openssl` by one small CA toolkit:
 *
 * - `makeTestPki`: targets for certificate and HTTPS checks — a root CA and leaves that are
 *   valid, expired, expiring in 5 days, for the wrong host, self-signed, and one signed by an
 *   intermediate CA that the server can send with or without its chain (PEM text).
 * - `makeTestCerts`: TLS and mutual-TLS peers — a CA and a second, unrelated CA; server
 *   certificates for localhost/127.0.0.1 (two, for reload tests) and for another host; client
 *   certificates for agent ids, one from the other CA and one expired (file paths).
 * - `testCertificates`: one CA and one server certificate in a folder the test owns.
 * - `selfSignedCert`: a certificate that is its own CA.
 *
 * EC P-256 keys (fast to make) except `makeTestPki`'s self-signed one, which is RSA 2048 so both
 * key types are seen.
 */
import { join } from "node:path";
import { MS_PER_DAY, MS_PER_HOUR, MS_PER_SECOND } from "../../shared/time.ts";

/**
 * `openssl ca`'s settings and the extensions each kind of certificate is signed with. Check
 * targets (`localhost`, `other`) carry no key-usage restriction; TLS peers (`server`,
 * `other_host`, `client_*`) are restricted to their side.
 */
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
[localhost]
subjectAltName = DNS:localhost,IP:127.0.0.1
basicConstraints = CA:FALSE
[other]
subjectAltName = DNS:other.example
basicConstraints = CA:FALSE
[intermediate]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
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

/** Runs openssl in `dir`; its stdout, or an error with its stderr. */
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

/** `YYYYMMDDHHMMSSZ` as `openssl ca -startdate/-enddate` takes it. */
function asn1Time(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, "").replace(/\.\d+Z$/, "Z");
}

interface Signed {
  certFile: string;
  keyFile: string;
  /** When it expires, epoch ms (certificates are whole seconds). */
  notAfterMs: number;
}

interface SignOptions {
  cn: string;
  /** A section of `CA_CONFIG`. */
  ext: string;
  /** Which CA of the folder signs. Default `"ca"`. */
  ca?: string;
  /** Default: a day ago. */
  fromMs?: number;
  /** Default: in 90 days. */
  toMs?: number;
}

/** A folder where CAs are made and sign certificates, each `name` becoming `name.pem`/`.key`. */
class CaFolder {
  readonly dir: string;
  readonly nowMs = Date.now();

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async open(dir: string): Promise<CaFolder> {
    await Deno.writeTextFile(join(dir, "ca.cnf"), CA_CONFIG);
    await Deno.writeTextFile(join(dir, "index.txt"), "");
    await Deno.writeTextFile(join(dir, "serial"), "1000\n");
    return new CaFolder(dir);
  }

  read(name: string): Promise<string> {
    return Deno.readTextFile(join(this.dir, name));
  }

  async #ecKey(name: string): Promise<void> {
    await openssl(this.dir, [
      "genpkey",
      "-algorithm",
      "EC",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-out",
      name,
    ]);
  }

  /** A self-signed root CA valid for ten years, as `name.pem` and `name.key`. */
  async makeCa(name: string, subject: string): Promise<void> {
    await this.#ecKey(`${name}.key`);
    await openssl(this.dir, [
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
      subject,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]); // deno-fmt-ignore
  }

  async sign(name: string, options: SignOptions): Promise<Signed> {
    const fromMs = options.fromMs ?? this.nowMs - MS_PER_DAY;
    const toMs = options.toMs ?? this.nowMs + 90 * MS_PER_DAY;
    await this.#ecKey(`${name}.key`);
    await openssl(this.dir, [
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
    await openssl(this.dir, [
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
      asn1Time(fromMs),
      "-enddate",
      asn1Time(toMs),
    ]); // deno-fmt-ignore
    return {
      certFile: join(this.dir, `${name}.pem`),
      keyFile: join(this.dir, `${name}.key`),
      notAfterMs: Math.floor(toMs / MS_PER_SECOND) * MS_PER_SECOND,
    };
  }
}

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

export async function makeTestPki(): Promise<TestPki> {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-pki-" });
  const ca = await CaFolder.open(dir);
  await ca.makeCa("ca", "/CN=oxmon Test Root/O=oxmon tests");
  const nowMs = ca.nowMs;
  const pair = async (name: string, options: SignOptions): Promise<CertPair> => {
    const signed = await ca.sign(name, options);
    return {
      cert: await Deno.readTextFile(signed.certFile),
      key: await Deno.readTextFile(signed.keyFile),
      notAfterMs: signed.notAfterMs,
    };
  };
  const valid = await pair("valid", { cn: "localhost", ext: "localhost" });
  const expired = await pair("expired", {
    cn: "localhost",
    ext: "localhost",
    fromMs: nowMs - 60 * MS_PER_DAY,
    toMs: nowMs - 2 * MS_PER_DAY,
  });
  const expiresIn5Days = await pair("soon", {
    cn: "localhost",
    ext: "localhost",
    toMs: nowMs + 5 * MS_PER_DAY + MS_PER_HOUR,
  });
  const wrongHost = await pair("other", { cn: "other.example", ext: "other" });
  const intermediate = await pair("intermediate", {
    cn: "oxmon Test Intermediate",
    ext: "intermediate",
    toMs: nowMs + 365 * MS_PER_DAY,
  });
  const chained = await pair("chained", {
    cn: "localhost",
    ext: "localhost",
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
  return {
    dir,
    caFile: join(dir, "ca.pem"),
    caPem: await ca.read("ca.pem"),
    valid,
    expired,
    expiresIn5Days,
    wrongHost,
    selfSigned: {
      cert: await ca.read("self.pem"),
      key: await ca.read("self.key"),
      notAfterMs: await notAfterOf(dir, "self.pem"),
    },
    incompleteChain: chained,
    fullChain: { ...chained, cert: chained.cert + intermediate.cert },
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}

/** The certificate's notAfter as openssl prints it, as epoch ms. */
async function notAfterOf(dir: string, file: string): Promise<number> {
  const text = (await openssl(dir, ["x509", "-noout", "-enddate", "-in", file]))
    .trim().replace(/^notAfter=/, "");
  return Date.parse(text.replace(/ GMT$/, " UTC"));
}

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

export async function makeTestCerts(): Promise<TestCerts> {
  const dir = await Deno.makeTempDir({ prefix: "oxmon-certs-" });
  const ca = await CaFolder.open(dir);
  await ca.makeCa("ca", "/CN=oxmon Test CA");
  await ca.makeCa("other-ca", "/CN=Unrelated Test CA");
  const files = async (name: string, options: SignOptions): Promise<CertFiles> => {
    const { certFile, keyFile } = await ca.sign(name, options);
    return { cert: certFile, key: keyFile };
  };
  const server = await files("server", { cn: "localhost", ext: "server" });
  const serverRenewed = await files("server-renewed", { cn: "localhost", ext: "server" });
  const wrongHostServer = await files("other-host", { cn: "other.example", ext: "other_host" });
  const clientA = await files("client-a", { cn: "agent-a", ext: "client_a" });
  const clientB = await files("client-b", { cn: "agent-b", ext: "client_b" });
  const otherCaClient = await files("other-ca-client", {
    cn: "agent-a",
    ext: "client_a",
    ca: "other-ca",
  });
  const expiredClient = await files("expired-client", {
    cn: "agent-a",
    ext: "client_a",
    fromMs: ca.nowMs - 60 * MS_PER_DAY,
    toMs: ca.nowMs - 2 * MS_PER_DAY,
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

export interface TestCertificates {
  /** PEM of a throw-away CA, for the client to trust. */
  caCert: string;
  /** PEM key and certificate for 127.0.0.1 and localhost, signed by the CA. */
  serverKey: string;
  serverCert: string;
}

/**
 * A CA and a server certificate it signed, made in `dir`. A self-signed server certificate will
 * not do: rustls (under Deno's fetch) refuses a CA certificate used as the server's own.
 */
export async function testCertificates(dir: string): Promise<TestCertificates> {
  const ca = await CaFolder.open(dir);
  await ca.makeCa("ca", "/CN=oxmon test CA");
  const { certFile, keyFile } = await ca.sign("server", { cn: "localhost", ext: "server" });
  return {
    caCert: await ca.read("ca.pem"),
    serverKey: await Deno.readTextFile(keyFile),
    serverCert: await Deno.readTextFile(certFile),
  };
}

/**
 * A self-signed certificate for 127.0.0.1 and localhost, written by openssl into `dir`
 * (about 0.1 s). The certificate is its own CA.
 */
export async function selfSignedCert(dir: string): Promise<{ key: string; cert: string }> {
  await openssl(dir, [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    "key.pem",
    "-out",
    "cert.pem",
    "-days",
    "1",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=IP:127.0.0.1,DNS:localhost",
  ]); // deno-fmt-ignore
  return {
    key: await Deno.readTextFile(join(dir, "key.pem")),
    cert: await Deno.readTextFile(join(dir, "cert.pem")),
  };
}
