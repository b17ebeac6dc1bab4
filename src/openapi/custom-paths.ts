/**
 * The custom routes in the OpenAPI document: their parameters, body and response schemas, summary
 * and description, and the problem responses they can give (the ones any route gives, those their
 * schemas imply, and the codes they declare in `errors`, the app's own codes included).
 */
import { ERRORS, type ErrorCode, errorEntry } from '../core/errors.js';
import type { JsonSchema } from '../core/schemas.js';
import type { AnyRoute, ResourceResponse } from '../extensions/types.js';
import { BODY, type ErrorResponses, header } from './responses.js';

export interface CustomPathsContext {
  readonly prefix: string;
  /** ErrorResponses, or a view of it that adds the codes every API operation shares (security.ts). */
  readonly errors: Pick<ErrorResponses, 'for'>;
  readonly operationId: (base: string) => string;
  /** The `$ref` of a resource's record schema. */
  readonly recordRef: (resource: string) => { $ref: string };
  /** components.schemas: an `AppProblem` schema is added when a route declares codes of the app's own. */
  readonly schemas: Record<string, JsonSchema>;
  /** The security requirement of a route, when the document declares security schemes (security.ts). */
  readonly security?: (route: AnyRoute) => JsonSchema[];
}

const JSON_MEDIA = 'application/json';
const PROBLEM_MEDIA = 'application/problem+json';

export function customPaths(routes: readonly AnyRoute[], context: CustomPathsContext): Record<string, JsonSchema> {
  const paths: Record<string, JsonSchema> = {};
  for (const route of routes) {
    const path = `${context.prefix}${route.path.replace(/:([A-Za-z][A-Za-z0-9_]*)/g, '{$1}')}`;
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route, context) };
  }
  return paths;
}

function operation(route: AnyRoute, context: CustomPathsContext): JsonSchema {
  const segments = route.path.split('/').filter(Boolean);
  const builtIn = new Set<ErrorCode>();
  const own: string[] = [];
  for (const code of route.errors ?? []) {
    if (Object.hasOwn(ERRORS, code)) builtIn.add(code as ErrorCode);
    else own.push(code);
  }
  const parameters = [...pathParameters(route, segments), ...queryParameters(route)];
  if (segments.some((s) => s.startsWith(':'))) builtIn.add('KILN_PATH_INVALID');
  if (route.query) builtIn.add('KILN_QUERY_INVALID');
  if (route.body) for (const code of BODY) builtIn.add(code);
  const op: JsonSchema = {
    operationId: context.operationId(operationName(route.method, segments)),
    tags: route.tags ? [...route.tags] : [segments.find((s) => !s.startsWith(':')) ?? 'routes'],
    summary: route.summary ?? `${route.method} ${route.path}`,
  };
  if (route.description) op.description = route.description;
  const security = context.security?.(route);
  if (security) op.security = security;
  if (parameters.length > 0) op.parameters = parameters;
  if (route.body) op.requestBody = { required: true, content: { [JSON_MEDIA]: { schema: route.body } } };
  op.responses = { ...success(route, context), ...withOwnCodes(context.errors.for([...builtIn]), own, context) };
  return op;
}

function success(route: AnyRoute, context: CustomPathsContext): JsonSchema {
  const status = String(route.status ?? 200);
  const headers = { 'X-Request-Id': header('XRequestId') };
  if (route.status === 204) return { [status]: { description: 'Done; no content.', headers } };
  const response = route.response as JsonSchema | ResourceResponse;
  const schema =
    typeof response.resource === 'string'
      ? { type: 'object', properties: { data: context.recordRef(response.resource) }, required: ['data'], additionalProperties: false }
      : response;
  return { [status]: { description: route.summary ?? 'Success.', headers, content: { [JSON_MEDIA]: { schema } } } };
}

function pathParameters(route: AnyRoute, segments: readonly string[]): JsonSchema[] {
  const properties = (route.params?.properties ?? {}) as Record<string, JsonSchema>;
  return segments
    .filter((s) => s.startsWith(':'))
    .map((s) => s.slice(1))
    .map((name) => ({ name, in: 'path', required: true, schema: properties[name] ?? { type: 'string', maxLength: 200 } }));
}

function queryParameters(route: AnyRoute): JsonSchema[] {
  const properties = (route.query?.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((route.query?.required ?? []) as string[]);
  return Object.entries(properties).map(([name, schema]) => ({ name, in: 'query', required: required.has(name), schema }));
}

/** `POST /posts/:id/publish` → `postPostsIdPublish`. */
function operationName(method: string, segments: readonly string[]): string {
  const words = segments.flatMap((s) => s.replace(/^:/, '').split(/[^A-Za-z0-9]+/)).filter(Boolean);
  return method.toLowerCase() + words.map((w) => w[0]?.toUpperCase() + w.slice(1)).join('');
}

/**
 * The app's own codes join the built-in responses by status. OpenAPI allows one response per status,
 * so a status with an app code is written out in full, with the AppProblem schema (any code).
 * Sorted by status.
 */
export function withOwnCodes(
  responses: Record<string, JsonSchema>,
  own: readonly string[],
  context: Pick<CustomPathsContext, 'schemas'>,
): Record<string, JsonSchema> {
  if (own.length === 0) return sortedByStatus(responses);
  context.schemas.AppProblem ??= appProblem(context.schemas.Problem);
  const out = { ...responses };
  const byStatus = new Map<number, string[]>();
  for (const code of own) byStatus.set(errorEntry(code).status, [...(byStatus.get(errorEntry(code).status) ?? []), code]);
  for (const [status, codes] of byStatus) {
    const others = Object.keys(ERRORS).filter((c) => ERRORS[c as ErrorCode].status === status && describes(responses[String(status)], c));
    const all = [...others, ...codes];
    out[String(status)] = {
      description: all.map((c) => `\`${c}\`: ${errorEntry(c).title}.`).join(' '),
      headers: { 'X-Request-Id': header('XRequestId') },
      content: { [PROBLEM_MEDIA]: { schema: { $ref: '#/components/schemas/AppProblem' } } },
    };
  }
  return sortedByStatus(out);
}

function sortedByStatus(responses: Record<string, JsonSchema>): Record<string, JsonSchema> {
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b) || a.localeCompare(b)));
}

/** Whether a built-in response object (a `$ref` or a list) is about `code`. */
function describes(response: JsonSchema | undefined, code: string): boolean {
  if (!response) return false;
  return JSON.stringify(response).includes(code);
}

/** The Problem schema with `code`, `title` and `status` open to the app's own codes. */
function appProblem(problem: JsonSchema | undefined): JsonSchema {
  const schema = structuredClone(problem ?? { type: 'object', properties: {} }) as { properties: Record<string, JsonSchema> } & JsonSchema;
  schema.description = "RFC 9457 problem details, with the codes the application registered besides Kiln's own.";
  schema.properties.code = {
    type: 'string',
    maxLength: 100,
    pattern: '^[A-Z][A-Z0-9_]*$',
    description: "Stable error code: one of Kiln's (docs/reference/errors.md) or the application's own.",
  };
  schema.properties.title = { type: 'string', maxLength: 200, description: 'The title registered for the code.' };
  schema.properties.status = { type: 'integer', format: 'int32', minimum: 400, maximum: 599, description: 'The HTTP status.' };
  schema.properties.type = { type: 'string', format: 'uri', maxLength: 300, description: 'The problem type base followed by the code.' };
  return schema;
}
