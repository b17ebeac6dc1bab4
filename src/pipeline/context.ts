/**
 * What every stage after parsing works on, whatever the transport: REST builds one context per
 * request, GraphQL will do the same, and code that calls operations directly (tests, hooks, scripts)
 * builds one with createContext. Operations read the caller and the limits from here, never from HTTP.
 */
import { randomUUID } from 'node:crypto';
import type { Limits } from '../core/limits.js';

/** Who is calling. Anonymous until an authenticator (src/pipeline/authenticate.ts) says otherwise. */
export interface Principal {
  /** `system`: Kiln's own flows (sign-up once its checks passed, the CLI, seeds), granted everything. */
  readonly kind: 'anonymous' | 'account' | 'apiKey' | 'service' | 'system';
  /** The account's id (or the API key's); null when anonymous. */
  readonly id: string | number | null;
  /** Roles in force, including the built-in `anonymous` or `authenticated`. */
  readonly roles: readonly string[];
}

export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous', id: null, roles: Object.freeze(['anonymous']) });

/** Kiln itself, acting for a flow that made its own checks: every rule grants it everything. Never the principal of a request. */
export const SYSTEM: Principal = Object.freeze({ kind: 'system', id: null, roles: Object.freeze(['system']) });

/** The logging calls operations make (pino's signature; Fastify's request logger fits). */
export interface ContextLogger {
  error(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  info(object: object, message?: string): void;
  debug(object: object, message?: string): void;
}

export interface RequestContext {
  readonly requestId: string;
  readonly log: ContextLogger;
  readonly principal: Principal;
  readonly limits: Limits;
  /** The client's address (Fastify's `req.ip`, as KILN_TRUST_PROXY allows); absent for calls made in code. */
  readonly ip?: string;
  /** Headers stages add to the answer (the rate-limit stage's RateLimit); absent where no HTTP answer is sent. Copies of the context share it. */
  readonly response?: ResponseHeaders;
  /**
   * Whether this request has written yet. With read replicas (DATABASE_REPLICA_URLS), its reads go to
   * a replica until it writes, and to the primary from then on, so it reads its own writes. Without
   * it (a context built by hand), every read goes to the primary. Copies of the context share it.
   */
  readonly consistency?: ReadConsistency;
}

/** Where a stage sets a header of the HTTP answer; the last value set for a name wins. */
export interface ResponseHeaders {
  set(name: string, value: string): void;
}

export interface ReadConsistency {
  wrote: boolean;
}

/** A new request's consistency: nothing written yet. */
export function freshReads(): ReadConsistency {
  return { wrote: false };
}

/** The same caller, reading from the primary whatever it wrote: for reads that must see a write just committed elsewhere. */
export function readingPrimary(ctx: RequestContext): RequestContext {
  return { ...ctx, consistency: undefined };
}

const SILENT: ContextLogger = Object.freeze({ error() {}, warn() {}, info() {}, debug() {} });

export interface ContextOptions {
  readonly limits: Limits;
  readonly requestId?: string;
  readonly log?: ContextLogger;
  readonly principal?: Principal;
}

/** A context for one call; the id is new and the caller anonymous unless given. */
export function createContext(options: ContextOptions): RequestContext {
  return {
    requestId: options.requestId ?? randomUUID(),
    log: options.log ?? SILENT,
    principal: options.principal ?? ANONYMOUS,
    limits: options.limits,
    consistency: freshReads(),
  };
}

/** The limits the settings configure. */
export function limitsFrom(settings: Limits): Limits {
  return Object.freeze({
    pageDefaultLimit: settings.pageDefaultLimit,
    pageMaxLimit: settings.pageMaxLimit,
    bulkMaxItems: settings.bulkMaxItems,
    includeMaxDepth: settings.includeMaxDepth,
    includeLimit: settings.includeLimit,
    includeMaxRows: settings.includeMaxRows,
    textMaxLength: settings.textMaxLength,
  });
}
