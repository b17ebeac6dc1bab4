/**
 * The app's own routes, below the API prefix. Each is served like a generated route: the request
 * becomes a context the same way (authenticators, request id, logger, limits), the body is parsed by
 * the same strict JSON parser, the parts of the request are checked against the route's schemas (400
 * in Kiln's validation format), the handler works through the operations, a KilnError it throws is
 * answered as problem+json, and the answer is written through the route's response schema.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import fastJson from 'fast-json-stringify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StartupError } from '../config/startup-error.js';
import { type ErrorCode, type FieldError, KilnError } from '../core/errors.js';
import { ExactNumber } from '../core/exact-number.js';
import { validationFailed } from '../core/input.js';
import type { Operations } from '../core/operations.js';
import type { Row } from '../core/query.js';
import { schemaMessage } from '../core/schema-messages.js';
import type { JsonSchema } from '../core/schemas.js';
import { checkRoutes, checkRouteTargets } from '../extensions/check.js';
import type { ResourceResponse, RouteDefinition, RouteHttp } from '../extensions/types.js';
import type { Model } from '../model/ir.js';
import { formatProblems, ProblemList } from '../model/problems.js';
import { etagOf } from '../pipeline/serialize.js';
import type { ContextOf } from '../rest/request-context.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const JSON_TYPE = 'application/json; charset=utf-8';

/** A route the server cannot serve as given: the start is refused with every problem listed. */
export class RouteError extends StartupError {
  constructor(problems: ProblemList) {
    super(formatProblems('custom routes', problems.items).replace('the model has', 'there are'));
    this.name = 'RouteError';
  }
}

export interface CustomRouteDeps {
  readonly ops: Operations;
  readonly contextOf: ContextOf;
  readonly prefix: string;
}

/**
 * The routes a server serves: the model's and the ones given to buildApp, checked together (no two
 * on one method and path, none on a generated route's, none written with the prefix itself).
 */
export function routesToServe(model: Model, given: readonly unknown[] | undefined, prefix: string): readonly RouteDefinition[] {
  const fromModel = model.extensions?.routes ?? [];
  if (!given?.length && fromModel.length === 0) return [];
  const problems = new ProblemList();
  const labels = fromModel.map((_, i) => `model routes.${i}`);
  const routes = [...fromModel, ...(given ? checkRoutes(given, 'routes', problems, labels) : [])];
  if (given?.length) checkRouteTargets(routes, labels, new Map(model.resources.map((r) => [r.name, r.path])), problems);
  routes.forEach((route, i) => {
    if (route.path === prefix || route.path.startsWith(`${prefix}/`)) {
      problems.add(
        labels[i] ?? `routes.${i}`,
        `the path ${route.path} starts with the API prefix ${prefix}`,
        `routes are always served below ${prefix}: write the path without it (${route.path.slice(prefix.length) || '/'})`,
      );
    }
  });
  if (!problems.empty) throw new RouteError(problems);
  return routes;
}

export function registerCustomRoutes(app: FastifyInstance, routes: readonly RouteDefinition[], deps: CustomRouteDeps): void {
  if (routes.length === 0) return;
  // Path and query values are text: their schemas may say integer or boolean, as Fastify's would.
  const coercing = addFormats(new Ajv({ allErrors: true, strict: false, coerceTypes: true, useDefaults: true }));
  const strict = addFormats(new Ajv({ allErrors: true, strict: false, coerceTypes: false, useDefaults: false }));
  const problems = new ProblemList();
  const handlers = routes.map((route, i) => {
    const compile = (ajv: Ajv, key: 'params' | 'query' | 'body'): ValidateFunction | undefined => {
      const schema = route[key];
      if (!schema) return undefined;
      try {
        return ajv.compile(schema);
      } catch (error) {
        problems.add(
          `routes.${i}.${key}`,
          `the schema of ${route.method} ${route.path} is not valid JSON Schema: ${(error as Error).message}`,
          'fix the schema',
        );
        return undefined;
      }
    };
    return {
      route,
      params: compile(coercing, 'params'),
      query: compile(coercing, 'query'),
      body: compile(strict, 'body'),
      write: writer(route, deps.ops, problems, i),
    };
  });
  if (!problems.empty) throw new RouteError(problems);
  for (const { route, params, query, body, write } of handlers) {
    app.route({
      method: route.method,
      url: `${deps.prefix}${route.path}`,
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const ctx = await deps.contextOf(req);
        if (route.authenticated && ctx.principal.kind === 'anonymous') throw unauthenticated();
        const args = {
          http: httpOf(req, reply),
          ctx,
          params: checked(params, { ...(req.params as object) }, 'KILN_PATH_INVALID', 'path'),
          query: checked(query, { ...(req.query as object) }, 'KILN_QUERY_INVALID', 'query'),
          body: checkedBody(body, req.body),
          ops: deps.ops,
        };
        const result = await route.handler(args as never);
        return write(reply, result);
      },
    });
  }
}

/** 401 for an anonymous caller of a route that needs one signed in. */
export function unauthenticated(
  detail = 'this route needs a signed-in caller: send Authorization: Bearer <access token>, an API key or the session cookie',
): KilnError {
  return new KilnError('KILN_UNAUTHENTICATED', { detail, headers: { 'www-authenticate': 'Bearer realm="kiln"' } });
}

/** The HTTP side of a request as a route handler sees it (set-cookie adds a cookie). */
export function httpOf(req: FastifyRequest, reply: FastifyReply): RouteHttp {
  return {
    headers: req.headers,
    ip: req.ip,
    setHeader(name, value) {
      const key = name.toLowerCase();
      const before = reply.getHeader(key);
      if (key === 'set-cookie' && before !== undefined) reply.header(key, [...[before].flat().map(String), value]);
      else reply.header(key, value);
    },
  };
}

/** How a route writes its answer: through its response schema, or as one record of a resource. */
function writer(route: RouteDefinition, ops: Operations, problems: ProblemList, i: number): (reply: FastifyReply, result: unknown) => FastifyReply {
  const status = route.status ?? 200;
  if (status === 204) return (reply) => reply.code(204).send();
  const response = route.response as JsonSchema | ResourceResponse;
  if (typeof response.resource === 'string') {
    const serialize = ops.compiled.of(response.resource).serialize;
    return (reply, result) => {
      // A bug of the handler, not of the client: 500, logged with this message.
      if (typeof result !== 'object' || result === null)
        throw new Error(`the handler of ${route.method} ${route.path} answered ${result === null ? 'null' : typeof result}, not a ${response.resource} record`);
      const body = serialize.one({ data: result as Row });
      return reply.code(status).header('etag', etagOf(body)).type(JSON_TYPE).send(body);
    };
  }
  let stringify: (value: unknown) => string = JSON.stringify;
  try {
    stringify = fastJson(response as never) as (value: unknown) => string;
  } catch (error) {
    problems.add(
      `routes.${i}.response`,
      `the response schema of ${route.method} ${route.path} cannot be compiled: ${(error as Error).message}`,
      'fix the schema',
    );
  }
  return (reply, result) => {
    if (result === undefined) throw new Error(`the handler of ${route.method} ${route.path} answered nothing; its response schema needs a value`);
    return reply.code(status).type(JSON_TYPE).send(stringify(result));
  };
}

/** Path and query parameters against their schema: 400 naming each parameter. */
function checked(validate: ValidateFunction | undefined, value: Record<string, unknown>, code: ErrorCode, where: string): Record<string, unknown> {
  if (!validate || validate(value)) return value;
  const errors = (validate.errors ?? []).map((e) => fieldError(e, ''));
  const parameter = (e: FieldError) => e.path.replace(/^\//, '') || where;
  const named = errors.map((e) => ({ ...e, path: parameter(e) }));
  const first = named[0];
  throw new KilnError(code, {
    detail: named.length === 1 && first ? `${where} parameter "${first.path}": ${first.message}` : `${named.length} problems in the ${where} parameters`,
    errors: named,
  });
}

/** The body against its schema: 400 KILN_VALIDATION_FAILED with a JSON pointer per problem, as for a record. */
function checkedBody(validate: ValidateFunction | undefined, body: unknown): unknown {
  if (!validate) return body === undefined ? undefined : plainNumbers(body);
  if (body === undefined) throw new KilnError('KILN_BODY_MISSING', { detail: 'this request needs a JSON body' });
  const value = plainNumbers(body);
  if (!validate(value)) throw validationFailed((validate.errors ?? []).map((e) => fieldError(e, '')));
  return value;
}

function fieldError(e: ErrorObject, pointer: string): FieldError {
  if (e.keyword === 'required') {
    const name = (e.params as { missingProperty: string }).missingProperty;
    return { path: `${pointer}${e.instancePath}/${name}`, code: 'required', message: `"${name}" is required` };
  }
  if (e.keyword === 'additionalProperties') {
    const name = (e.params as { additionalProperty: string }).additionalProperty;
    return { path: `${pointer}${e.instancePath}/${name}`, code: 'unknown', message: `"${name}" is not accepted here` };
  }
  return { path: `${pointer}${e.instancePath}` || '/', code: e.keyword, message: schemaMessage(e) };
}

/** The body parser keeps long numbers exact (ExactNumber); a custom route's schema sees JSON numbers. */
function plainNumbers(value: unknown): unknown {
  if (value instanceof ExactNumber) return Number(value.text);
  if (Array.isArray(value)) return value.map(plainNumbers);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainNumbers(v)]));
  return value;
}
