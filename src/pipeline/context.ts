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
