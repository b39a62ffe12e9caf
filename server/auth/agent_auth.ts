/**
 * Who is writing: an agent's credentials (a bearer token from the config or issued through the
 * whitelist API, and with mutual TLS its client certificate's names) turned into the set of agent
 * ids it may write as. A batch for an id outside that set is refused with PERMISSION_DENIED by
 * the ingest service, so one compromised host cannot forge another host's metrics.
 */
import { compileGlob } from "../../shared/glob.ts";
import type { AgentTokenConfig } from "./config.ts";
import { bearerToken, digestFromHex, findDigest, tokenDigest } from "./tokens.ts";

/** Tokens issued at run time (`/api/v1/agents/whitelist`), each bound to one agent id. */
export interface IssuedTokenLookup {
  /** The agent id a token digest was issued for, or undefined. */
  agentFor(digest: Uint8Array): string | undefined;
}

export interface AgentCredentials {
  /** `authorization` metadata, e.g. `Bearer s3cret`. */
  authorization?: string;
  /**
   * Names of a verified client certificate (CN, then DNS names), set by the gRPC listener only
   * when the connection is mutual TLS and the certificate chains to the configured CA.
   */
  certificateNames?: readonly string[];
}

export interface AgentIdentity {
  /** For logs and counters; never a secret. */
  readonly name: string;
  /** Whether this credential may write batches as `agentId`. */
  covers(agentId: string): boolean;
}

export type AgentAuthResult =
  | { ok: true; identity: AgentIdentity }
  | { ok: false; message: string; reason: string };

export interface AgentAuthenticatorOptions {
  tokens: readonly AgentTokenConfig[];
  /** Refuse requests without an accepted credential even when `tokens` is empty. */
  requireAuth?: boolean;
  issued?: IssuedTokenLookup;
  /** The client certificate's names are an identity (mutual TLS with `client_cert_identity`). */
  certificateIdentity?: boolean;
}

const ANYONE: AgentIdentity = Object.freeze({ name: "anonymous", covers: () => true });

interface CompiledToken {
  name: string;
  digest: Uint8Array;
  covers: (agentId: string) => boolean;
}

export class AgentAuthenticator {
  readonly #tokens: CompiledToken[];
  readonly #issued?: IssuedTokenLookup;
  readonly #certificateIdentity: boolean;
  /** Whether a request without an accepted credential is refused. */
  readonly required: boolean;

  constructor(options: AgentAuthenticatorOptions) {
    this.#tokens = options.tokens.map((token) => {
      const matchers = token.agents?.map(compileGlob);
      return {
        name: token.name,
        digest: digestFromHex(token.sha256),
        covers: matchers ? (id) => matchers.some((match) => match(id)) : () => true,
      };
    });
    this.#issued = options.issued;
    this.#certificateIdentity = options.certificateIdentity ?? false;
    this.required = (options.requireAuth ?? false) || this.#tokens.length > 0 ||
      this.#certificateIdentity;
  }

  authenticate(credentials: AgentCredentials): AgentAuthResult {
    const tokenRequired = (this.required && !this.#certificateIdentity) ||
      this.#tokens.length > 0;
    let tokenIdentity: AgentIdentity | undefined;
    if (credentials.authorization !== undefined) {
      const token = bearerToken(credentials.authorization);
      tokenIdentity = token === undefined ? undefined : this.#byToken(token);
      if (!tokenIdentity && tokenRequired) {
        return {
          ok: false,
          reason: token === undefined ? "malformed authorization" : "wrong token",
          message: "authorization: the bearer token is not accepted",
        };
      }
    } else if (tokenRequired) {
      return {
        ok: false,
        reason: "no bearer token",
        message: 'authorization: missing metadata "authorization: Bearer <token>"',
      };
    }

    let certIdentity: AgentIdentity | undefined;
    if (this.#certificateIdentity) {
      const names = credentials.certificateNames ?? [];
      if (names.length === 0) {
        return {
          ok: false,
          reason: "no client certificate",
          message: "a client certificate signed by the configured CA is required",
        };
      }
      const allowed = new Set(names);
      certIdentity = {
        name: `certificate ${names[0]}`,
        covers: (agentId) => allowed.has(agentId),
      };
    }
    if (tokenIdentity && certIdentity) {
      const [a, b] = [tokenIdentity, certIdentity];
      return {
        ok: true,
        identity: { name: `${a.name} + ${b.name}`, covers: (id) => a.covers(id) && b.covers(id) },
      };
    }
    return { ok: true, identity: tokenIdentity ?? certIdentity ?? ANYONE };
  }

  #byToken(token: string): AgentIdentity | undefined {
    const digest = tokenDigest(token);
    const index = findDigest(this.#tokens, digest);
    if (index !== -1) {
      const { name, covers } = this.#tokens[index];
      return { name, covers };
    }
    const agentId = this.#issued?.agentFor(digest);
    if (agentId === undefined) return undefined;
    return { name: `whitelist:${agentId}`, covers: (id) => id === agentId };
  }
}
