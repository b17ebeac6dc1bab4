/**
 * The REST routes of one resource. A handler only translates: the query string and body become
 * operation arguments (parse), the request becomes a context (authenticate), the operation runs the
 * remaining stages, and its result becomes JSON with an ETag (serialize).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ResponseCache } from '../cache/response-cache.js';
import type { CompiledResource } from '../core/compiled-model.js';
import type { Operations } from '../core/operations.js';
import type { Row } from '../core/query.js';
import type { Queryable } from '../db/database.js';
import type { RequestContext } from '../pipeline/context.js';
import { etagOf, noneMatch } from '../pipeline/serialize.js';
import { registerCachedReads } from './cached-reads.js';
import { checkIdempotencyKey, fingerprint, type IdempotentRequest, runIdempotent, type StoredResponse } from './idempotency.js';
import { parseListQuery, parseSelectionQuery, type RawQuery, rejectQuery } from './query-grammar.js';
import type { ContextOf } from './request-context.js';

export interface RouteDeps {
  readonly ops: Operations;
  readonly contextOf: ContextOf;
  readonly prefix: string;
  readonly idempotencyTtlHours: number;
  /** The response cache, when some resource is cached (src/cache/). */
  readonly cache?: ResponseCache;
}

export type IdRequest = FastifyRequest<{ Params: { id: string }; Querystring: RawQuery }>;
export type BaseRequest = FastifyRequest<{ Querystring: RawQuery }>;

const JSON_TYPE = 'application/json; charset=utf-8';

export function registerResourceRoutes(app: FastifyInstance, r: CompiledResource, deps: RouteDeps): void {
  const { ops, contextOf } = deps;
  const name = r.resource.name;
  const serialize = r.serialize;
  const base = `${deps.prefix}/${r.resource.path}`;
  const canonical = (row: Row) => serialize.one({ data: row });
  const location = (row: Row) => `${base}/${String(row.id)}`;

  const cache = deps.cache?.caches(name) && ops.cacheable(name) ? deps.cache : undefined;
  if (cache) registerCachedReads(app, r, { ...deps, cache });
  else registerReads(app, r, deps);

  const created = (row: Row): StoredResponse => ({ status: 201, body: canonical(row), location: location(row) });
  const createdMany = (rows: Row[]): StoredResponse => ({ status: 201, body: serialize.many({ data: rows }), location: null });

  app.post(base, async (req: BaseRequest, reply) => {
    rejectQuery(req.query);
    const ctx = await contextOf(req);
    const key = idempotency(req, ctx, deps, `create:${name}`);
    if (!key) return sendStored(reply, { ...created(await ops.create(ctx, name, req.body)), replayed: false });
    const around = (write: (tx: Queryable) => Promise<Row>) => runIdempotent(ops, key, async (tx) => created(await write(tx)));
    return sendStored(reply, await ops.create(ctx, name, req.body, { around }));
  });

  app.post(`${base}/bulk`, async (req: BaseRequest, reply) => {
    rejectQuery(req.query);
    const ctx = await contextOf(req);
    const key = idempotency(req, ctx, deps, `createMany:${name}`);
    if (!key) return sendStored(reply, { ...createdMany(await ops.createMany(ctx, name, req.body)), replayed: false });
    const around = (write: (tx: Queryable) => Promise<Row[]>) => runIdempotent(ops, key, async (tx) => createdMany(await write(tx)));
    return sendStored(reply, await ops.createMany(ctx, name, req.body, { around }));
  });

  const update = (replace: boolean) => async (req: IdRequest, reply: FastifyReply) => {
    rejectQuery(req.query);
    const ctx = await contextOf(req);
    const options = { ifMatch: req.headers['if-match'] };
    const row = replace ? await ops.replace(ctx, name, req.params.id, req.body, options) : await ops.update(ctx, name, req.params.id, req.body, options);
    const body = canonical(row);
    return reply.code(200).header('etag', etagOf(body)).type(JSON_TYPE).send(body);
  };
  app.patch(`${base}/:id`, update(false));
  app.put(`${base}/:id`, update(true));

  app.delete(`${base}/:id`, async (req: IdRequest, reply) => {
    rejectQuery(req.query);
    await ops.remove(await contextOf(req), name, req.params.id, { ifMatch: req.headers['if-match'] });
    return reply.code(204).send();
  });
}

/**
 * The two reads, uncached. Written without async/await and answering through reply.send: each promise
 * is a tick more on the requests most APIs serve most, and the context is usually ready at once (no
 * asynchronous authenticator).
 */
function registerReads(app: FastifyInstance, r: CompiledResource, { ops, contextOf, prefix }: RouteDeps): void {
  const name = r.resource.name;
  const serialize = r.serialize;
  const base = `${prefix}/${r.resource.path}`;
  app.get(base, (req: BaseRequest, reply) => {
    withContext(contextOf(req), (ctx) => ops.list(ctx, name, parseListQuery(req.query))).then(
      ({ rows, page }) => sendRepresentation(req, reply, serialize.page({ data: rows, page })),
      (error: unknown) => reply.send(error),
    );
  });

  app.get(`${base}/:id`, (req: IdRequest, reply) => {
    withContext(contextOf(req), (ctx) => ops.get(ctx, name, req.params.id, isEmpty(req.query) ? undefined : parseSelectionQuery(req.query))).then(
      (row) => sendRepresentation(req, reply, serialize.one({ data: row })),
      (error: unknown) => reply.send(error),
    );
  });
}

/** Runs `call` with the request's context, waiting for it only when an authenticator was asynchronous. */
export function withContext<T>(ctx: RequestContext | Promise<RequestContext>, call: (ctx: RequestContext) => Promise<T>): Promise<T> {
  try {
    return ctx instanceof Promise ? ctx.then(call) : call(ctx);
  } catch (error) {
    return Promise.reject(error);
  }
}

export function isEmpty(query: RawQuery): boolean {
  for (const _ in query) return false;
  return true;
}

/** Sends a GET body with its ETag, or 304 when the client already has it. */
export function sendRepresentation(req: FastifyRequest, reply: FastifyReply, body: string): FastifyReply {
  // Encoded once: the hash and the socket would each turn the serialiser's string into UTF-8 bytes.
  const bytes = Buffer.from(body);
  const etag = etagOf(bytes);
  reply.header('etag', etag);
  if (noneMatch(req.headers['if-none-match'], etag)) return reply.code(304).send();
  return reply.code(200).type(JSON_TYPE).send(bytes);
}

function sendStored(reply: FastifyReply, response: StoredResponse & { replayed: boolean }): FastifyReply {
  if (response.location) reply.header('location', response.location);
  if (response.replayed) reply.header('idempotent-replayed', 'true');
  if (response.status === 201 && response.location) reply.header('etag', etagOf(response.body));
  return reply.code(response.status).type(JSON_TYPE).send(response.body);
}

/**
 * The Idempotency-Key of a create, if it has one: unique per operation, resource and caller. The write
 * and the key's record then share one transaction (rest/idempotency.ts).
 */
function idempotency(req: FastifyRequest, ctx: RequestContext, deps: RouteDeps, operation: string): IdempotentRequest | undefined {
  const key = checkIdempotencyKey(req.headers['idempotency-key']);
  if (key === undefined) return undefined;
  const caller = ctx.principal.id === null ? ctx.principal.kind : `${ctx.principal.kind}:${String(ctx.principal.id)}`;
  return { scope: `${operation}:${caller}`, key, fingerprint: fingerprint(req.body), ttlHours: deps.idempotencyTtlHours };
}
