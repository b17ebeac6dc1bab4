/**
 * The two REST reads of a cached resource (src/cache/): the same stages as the uncached ones, except
 * that once the caller passed the rate limits, a response stored for the same request and the same
 * rights is sent as it is (no validation, no SQL, no serialisation: an entry exists only for a
 * request that was valid and allowed, and the rights are part of its key). If-None-Match is compared
 * with the stored ETag, so a conditional GET answered from the cache costs no SQL either.
 * A fill reads from the primary, never from a read replica: an entry stored under the generations
 * after a write must hold that write, which a lagging replica may not have replayed yet (it would
 * then stay stale for the whole TTL rather than for the replica's lag).
 * `X-Cache` says how each response was made: HIT, MISS (filled now) or BYPASS (the cache could not be used).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CachedRead, CacheOutcome, ResponseCache } from '../cache/response-cache.js';
import type { CachedResponse } from '../cache/store.js';
import type { CompiledResource } from '../core/compiled-model.js';
import { readingPrimary } from '../pipeline/context.js';
import { etagOf, noneMatch } from '../pipeline/serialize.js';
import { parseListQuery, parseSelectionQuery } from './query-grammar.js';
import { type BaseRequest, type IdRequest, isEmpty, type RouteDeps, withContext } from './resource-routes.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const OUTCOME_HEADER: Record<CacheOutcome, string> = { hit: 'HIT', miss: 'MISS', bypass: 'BYPASS' };

export function registerCachedReads(app: FastifyInstance, r: CompiledResource, deps: RouteDeps & { cache: ResponseCache }): void {
  const { ops, contextOf, cache } = deps;
  const name = r.resource.name;
  const serialize = r.serialize;
  const base = `${deps.prefix}/${r.resource.path}`;

  app.get(base, (req: BaseRequest, reply) => {
    withContext(contextOf(req), async (ctx): Promise<CachedRead> => {
      const args = parseListQuery(req.query);
      await ops.limitRead(ctx, 'list', name, args);
      return cache.read(ctx.principal, name, 'list', undefined, args, async () => {
        const { rows, page } = await ops.list(readingPrimary(ctx), name, args, { limited: true });
        return represent(serialize.page({ data: rows, page }));
      });
    }).then(
      (read) => sendCached(req, reply, read),
      (error: unknown) => reply.send(error),
    );
  });

  app.get(`${base}/:id`, (req: IdRequest, reply) => {
    withContext(contextOf(req), async (ctx): Promise<CachedRead> => {
      const args = isEmpty(req.query) ? undefined : parseSelectionQuery(req.query);
      await ops.limitRead(ctx, 'get', name, args);
      return cache.read(ctx.principal, name, 'get', req.params.id, args, async () => {
        const row = await ops.get(readingPrimary(ctx), name, req.params.id, args, { limited: true });
        return represent(serialize.one({ data: row }));
      });
    }).then(
      (read) => sendCached(req, reply, read),
      (error: unknown) => reply.send(error),
    );
  });
}

/** A body with its ETag, computed as for an uncached response (the same bytes, so the same ETag). */
function represent(body: string): CachedResponse {
  return { etag: etagOf(Buffer.from(body)), body };
}

function sendCached(req: FastifyRequest, reply: FastifyReply, { response, outcome }: CachedRead): FastifyReply {
  reply.header('etag', response.etag).header('x-cache', OUTCOME_HEADER[outcome]);
  if (noneMatch(req.headers['if-none-match'], response.etag)) return reply.code(304).send();
  return reply.code(200).type(JSON_TYPE).send(response.body);
}
