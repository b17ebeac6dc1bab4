/**
 * The user's own code inside the API: lifecycle hooks of a resource and custom routes. Both reach the
 * data only through the operations (src/core/operations.ts), so access rules, validation and errors
 * stay those of every other caller. See docs/how-to/hooks-and-routes.md.
 */
import type { ListResult, Operations } from '../core/operations.js';
import type { Row } from '../core/query.js';
import type { JsonSchema } from '../core/schemas.js';
import type { Queryable } from '../db/database.js';
import type { RequestContext } from '../pipeline/context.js';
import type { ListArgs, SelectionArgs } from '../pipeline/parse.js';

/** A record as hooks see it: field name → value. */
export type RecordShape = Record<string, unknown>;

/**
 * The operations bound to one transaction: what a before-hook reads and writes commits or rolls back
 * with the write that runs it. Same arguments and stages as Operations, without the transaction option.
 */
export interface TransactionOperations {
  /** The transaction itself, for the hook's own SQL. */
  readonly tx: Queryable;
  list(ctx: RequestContext, resource: string, args?: ListArgs): Promise<ListResult>;
  get(ctx: RequestContext, resource: string, id: unknown, args?: SelectionArgs): Promise<Row>;
  create(ctx: RequestContext, resource: string, body: unknown): Promise<Row>;
  createMany(ctx: RequestContext, resource: string, bodies: unknown): Promise<Row[]>;
  update(ctx: RequestContext, resource: string, id: unknown, body: unknown): Promise<Row>;
  replace(ctx: RequestContext, resource: string, id: unknown, body: unknown): Promise<Row>;
  remove(ctx: RequestContext, resource: string, id: unknown): Promise<void>;
  setLinks(ctx: RequestContext, resource: string, id: unknown, relation: string, ids: unknown): Promise<void>;
}

/** What a before-hook gets: the validated input, the caller, and the write's transaction. */
export interface BeforeHookArgs<I> {
  /** The input, validated; a fresh object the hook may change in place or replace by returning another. */
  readonly input: I;
  readonly ctx: RequestContext;
  /** The write's transaction: queries on it commit or roll back with the write. */
  readonly tx: Queryable;
  /** The operations bound to `tx`. */
  readonly ops: TransactionOperations;
}

/** What an after-hook gets: the record as written, after the transaction committed. */
export interface AfterHookArgs<R> {
  readonly row: R;
  readonly ctx: RequestContext;
}

type Awaitable<T> = T | Promise<T>;
/** What a hook may return: a value, or nothing (a function without `return` returns void). */
// biome-ignore lint/suspicious/noConfusingVoidType: a hook written without `return` is typed void, and must fit.
type OrNothing<T> = T | undefined | void;

/**
 * The hooks of one resource. `I` is the shape of its input (the fields a write may carry), `R` the
 * shape of a record as read. Before-hooks may change the input or refuse by throwing a KilnError;
 * after-hooks run once the write committed and cannot change the answer; afterRead may change the
 * values of each record read.
 */
export interface ResourceHooks<I extends RecordShape = RecordShape, R extends RecordShape = RecordShape> {
  beforeCreate?(args: BeforeHookArgs<I>): Awaitable<OrNothing<Partial<I>>>;
  afterCreate?(args: AfterHookArgs<R>): Awaitable<void>;
  /** `input` holds `id` and the fields being changed (all writable ones for a replace, see `replace`). */
  beforeUpdate?(
    args: BeforeHookArgs<Partial<I> & { id: number | string }> & { readonly replace: boolean },
  ): Awaitable<OrNothing<Partial<I> & { id: number | string }>>;
  afterUpdate?(args: AfterHookArgs<R>): Awaitable<void>;
  /** May refuse the delete by throwing; its return value is not used. */
  beforeDelete?(args: BeforeHookArgs<{ id: number | string }>): Awaitable<unknown>;
  afterDelete?(args: { readonly id: number | string; readonly ctx: RequestContext }): Awaitable<void>;
  /**
   * Each record a get or a list returns (not the records embedded by `include`); may change values.
   * The row holds only what the caller selected and may read (`?fields=`, field rules), so any field
   * may be missing; a field the row lacks stays out of the answer even if the hook sets it.
   */
  afterRead?(args: AfterHookArgs<Partial<R>>): Awaitable<OrNothing<Partial<R>>>;
  /**
   * The codes these hooks may refuse with (KILN_ codes, or the app's from registerErrorCode): the
   * OpenAPI document lists them on the operations a before-hook or afterRead of this resource runs on.
   */
  readonly errors?: readonly string[];
}

export const HOOK_NAMES = ['beforeCreate', 'afterCreate', 'beforeUpdate', 'afterUpdate', 'beforeDelete', 'afterDelete', 'afterRead'] as const;
export type HookName = (typeof HOOK_NAMES)[number];

export const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type RouteMethod = (typeof ROUTE_METHODS)[number];

/** A route answering one record of a resource as `{ data: record }`, serialised like GET /<resource>/:id. */
export interface ResourceResponse {
  readonly resource: string;
}

/** The HTTP side of a request, for a route that needs more than its parameters and body. */
export interface RouteHttp {
  /** Request headers, names in lower case. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The client's address. */
  readonly ip: string;
  /** Sets a response header; for `set-cookie`, each call adds a cookie. */
  setHeader(name: string, value: string): void;
}

/** What a custom route's handler gets. */
export interface RouteHandlerArgs<P, Q, B> {
  /** Headers and client address of the request; response headers. */
  readonly http: RouteHttp;
  readonly ctx: RequestContext;
  /** Path parameters, checked against `params` when given. */
  readonly params: P;
  /** Query-string parameters (strings), checked against `query` when given. */
  readonly query: Q;
  /** The JSON body, checked against `body` when given. */
  readonly body: B;
  /** The operations: every call runs the same stages as the generated routes'. */
  readonly ops: RouteOperations;
}

/** The part of Operations a route handler uses (the class itself is passed). */
export type RouteOperations = Operations;

export interface RouteDefinition<P = Record<string, string>, Q = Record<string, string | string[]>, B = unknown> {
  readonly method: RouteMethod;
  /** Below the API prefix: `/posts/:id/publish` is served at `/v1/posts/:id/publish`. */
  readonly path: string;
  readonly summary?: string;
  readonly description?: string;
  /** OpenAPI tags; the first path segment when absent. */
  readonly tags?: readonly string[];
  /** JSON Schemas of the request parts; a request that does not meet one is answered 400. */
  readonly params?: JsonSchema;
  readonly query?: JsonSchema;
  readonly body?: JsonSchema;
  /**
   * How the answer is written: a JSON Schema (only the properties it declares are sent), or
   * `{ resource }` for one record of a resource. Required unless `status` is 204.
   */
  readonly response?: JsonSchema | ResourceResponse;
  /** Status of a successful answer. Default 200 (201 for POST is not assumed). */
  readonly status?: number;
  /** Error codes the handler may answer, for the OpenAPI document. */
  readonly errors?: readonly string[];
  /**
   * Only for a signed-in caller: an anonymous one is answered 401 KILN_UNAUTHENTICATED with
   * WWW-Authenticate before the handler runs, and the OpenAPI operation states its security.
   */
  readonly authenticated?: boolean;
  handler(args: RouteHandlerArgs<P, Q, B>): Promise<unknown> | unknown;
}

/** A route whatever its parameter types: how lists of routes hold them. */
// biome-ignore lint/suspicious/noExplicitAny: a list holds routes of different parameter types; each was checked where it was defined.
export type AnyRoute = RouteDefinition<any, any, any>;
/** A resource's hooks whatever its field types. */
// biome-ignore lint/suspicious/noExplicitAny: hooks of different resources have different shapes; each was checked where it was defined.
export type AnyHooks = ResourceHooks<any, any>;

/** What an extensions module exports by default (the YAML/JSON model names it with `extensions:`). */
export interface ExtensionsDeclaration {
  readonly hooks?: Readonly<Record<string, AnyHooks>>;
  readonly routes?: readonly AnyRoute[];
}

/** The checked extensions of a model, as the compiled model holds them. */
export interface ModelExtensions {
  /** Hooks by resource name; only resources that declare some. */
  readonly hooks: ReadonlyMap<string, ResourceHooks>;
  readonly routes: readonly AnyRoute[];
}
