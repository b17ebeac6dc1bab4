import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KilnError } from '../core/errors.js';
import type { Operations, WriteInput } from '../core/operations.js';
import type { Row } from '../core/query.js';
import type { Queryable } from '../db/database.js';
import type { Resource } from '../model/ir.js';
import type { BodyValidator } from './body.js';
import { validationFailed } from './body.js';
import { etagOf, ifMatch, noneMatch } from './etag.js';
import { checkIdempotencyKey, fingerprint, runIdempotent, type StoredResponse } from './idempotency.js';
import { parsePathId } from './path-id.js';
import type { QueryGrammar } from './query-grammar.js';
import type { Serializers } from './serializers.js';

export interface RouteDeps {
  readonly ops: Operations;
  readonly grammar: QueryGrammar;
  readonly bodies: BodyValidator;
  readonly serializers: Serializers;
  readonly prefix: string;
  readonly bulkMaxItems: number;
  readonly idempotencyTtlHours: number;
}

type Query = Record<string, string | string[] | undefined>;
type IdRequest = FastifyRequest<{ Params: { id: string }; Querystring: Query }>;

const JSON_TYPE = 'application/json; charset=utf-8';

/** Registers the REST routes of one resource. Handlers only translate HTTP to operations and back. */
export function registerResourceRoutes(app: FastifyInstance, resource: Resource, deps: RouteDeps): void {
  const { ops, grammar, bodies, prefix } = deps;
  const serialize = deps.serializers.for(resource);
  const base = `${prefix}/${resource.path}`;
  const canonical = (row: Row) => serialize.one({ data: row });
  const location = (row: Row) => `${base}/${String(row.id)}`;

  app.get(base, async (req: FastifyRequest<{ Querystring: Query }>, reply) => {
    const query = grammar.parseList(resource, req.query, ops);
    const { rows, page } = await ops.list(resource, query);
    return sendRepresentation(req, reply, serialize.page({ data: rows, page }));
  });

  app.get(`${base}/:id`, async (req: IdRequest, reply) => {
    const id = parsePathId(resource, req.params.id);
    const selection = grammar.parseSelection(resource, req.query);
    const row = await ops.get(resource, id, selection);
    return sendRepresentation(req, reply, serialize.one({ data: row }));
  });

  app.post(base, async (req: FastifyRequest<{ Querystring: Query }>, reply) => {
    rejectQuery(req.query);
    const input = bodies.parse(resource, 'Create', requireBody(req.body));
    const response = await withIdempotency(req, deps, async (tx) => {
      const row = await ops.create(resource, input, { tx });
      return { status: 201, body: canonical(row), location: location(row) };
    });
    return sendStored(reply, response);
  });

  app.post(`${base}/bulk`, async (req: FastifyRequest<{ Querystring: Query }>, reply) => {
    rejectQuery(req.query);
    const inputs = parseBulk(resource, requireBody(req.body), bodies, deps.bulkMaxItems);
    const response = await withIdempotency(req, deps, async (tx) => {
      const rows = await ops.createMany(resource, inputs, { tx });
      return { status: 201, body: serialize.many({ data: rows }), location: null };
    });
    return sendStored(reply, response);
  });

  const update = (replace: boolean) => async (req: IdRequest, reply: FastifyReply) => {
    rejectQuery(req.query);
    const id = parsePathId(resource, req.params.id);
    const input = bodies.parse(resource, replace ? 'Replace' : 'Update', requireBody(req.body));
    const row = await ops.update(resource, id, input, { replace, precondition: preconditionFor(req, canonical) });
    const body = canonical(row);
    return reply.code(200).header('etag', etagOf(body)).type(JSON_TYPE).send(body);
  };
  app.patch(`${base}/:id`, update(false));
  app.put(`${base}/:id`, update(true));

  app.delete(`${base}/:id`, async (req: IdRequest, reply) => {
    rejectQuery(req.query);
    const id = parsePathId(resource, req.params.id);
    await ops.remove(resource, id, { precondition: preconditionFor(req, canonical) });
    return reply.code(204).send();
  });
}

/** Sends a GET body with its ETag, or 304 when the client already has it. */
function sendRepresentation(req: FastifyRequest, reply: FastifyReply, body: string): FastifyReply {
  const etag = etagOf(body);
  reply.header('etag', etag);
  if (noneMatch(req.headers['if-none-match'], etag)) return reply.code(304).send();
  return reply.code(200).type(JSON_TYPE).send(body);
}

function sendStored(reply: FastifyReply, response: StoredResponse & { replayed: boolean }): FastifyReply {
  if (response.location) reply.header('location', response.location);
  if (response.replayed) reply.header('idempotent-replayed', 'true');
  if (response.status === 201 && response.location) reply.header('etag', etagOf(response.body));
  return reply.code(response.status).type(JSON_TYPE).send(response.body);
}

/** With an Idempotency-Key the write and the key's record share one transaction; without, no transaction is opened. */
async function withIdempotency(
  req: FastifyRequest,
  deps: RouteDeps,
  create: (tx: Queryable | undefined) => Promise<StoredResponse>,
): Promise<StoredResponse & { replayed: boolean }> {
  const key = checkIdempotencyKey(req.headers['idempotency-key']);
  if (key === undefined) return { ...(await create(undefined)), replayed: false };
  const request = { scope: `POST ${req.url.split('?')[0]}`, key, fingerprint: fingerprint(req.body), ttlHours: deps.idempotencyTtlHours };
  return runIdempotent((fn) => deps.ops.transaction(fn), request, create);
}

/** If-Match → a precondition the operation checks against the locked current record. */
function preconditionFor(req: FastifyRequest, canonical: (row: Row) => string): ((current: Row) => void) | undefined {
  const header = req.headers['if-match'];
  if (header === undefined) return undefined;
  return (current) => {
    if (!ifMatch(header, etagOf(canonical(current)))) {
      throw new KilnError('KILN_PRECONDITION_FAILED', { detail: 'If-Match does not match the current ETag of the record' });
    }
  };
}

/** No body at all; a JSON `null` is a body, refused by validation as "not an object". */
function requireBody(body: unknown): unknown {
  if (body === undefined) throw new KilnError('KILN_BODY_MISSING', { detail: 'this request needs a JSON body' });
  return body;
}

function rejectQuery(query: Query): void {
  const keys = Object.keys(query);
  if (keys.length > 0) {
    throw new KilnError('KILN_QUERY_INVALID', {
      detail: `this route takes no query parameters; got ${keys.map((k) => `"${k.slice(0, 40)}"`).join(', ')}`,
      errors: keys.map((k) => ({ path: k.slice(0, 40), code: 'unknown', message: 'unknown query parameter' })),
    });
  }
}

function parseBulk(resource: Resource, body: unknown, bodies: BodyValidator, max: number): WriteInput[] {
  if (!Array.isArray(body) || body.length === 0 || body.length > max) {
    throw validationFailed([{ path: '/', code: 'type', message: `the body must be an array of 1 to ${max} ${resource.name} records` }]);
  }
  const errors = body.flatMap((item, i) => bodies.check(resource, 'Create', item, `/${i}`));
  if (errors.length > 0) throw validationFailed(errors);
  return body.map((item) => bodies.split(resource, item));
}
