/**
 * The OpenAPI 3.1 document, generated from the model. Schemas come from core/schemas.ts, the same
 * derivation that validates requests and serialises responses; test/openapi lints the result with
 * Spectral and checks it against the routes the server really registers.
 */
import { idSchema, inputSchema, type JsonSchema, outputSchema, pageSchema } from '../core/schemas.js';
import type { AnyRoute } from '../extensions/types.js';
import type { AccessOperation, Model, Resource } from '../model/ir.js';
import { DocumentAccess, type OperationErrors } from './access.js';
import { customPaths } from './custom-paths.js';
import { eventStreamPaths } from './event-paths.js';
import { fitsField } from './examples.js';
import { healthPaths, healthTag } from './health-paths.js';
import { addHookCodes } from './hook-codes.js';
import { infoObject } from './info.js';
import { type ParameterLimits, sharedParameters } from './parameters.js';
import { readSchemas } from './read-schemas.js';
import { resourcePaths } from './resource-paths.js';
import { ANY_ROUTE, ErrorResponses, HEADERS, problemSchema } from './responses.js';
import { SchemaNames, VARIANTS } from './schema-names.js';
import { type SecuritySettings, secureOperations, securityRequirement, securitySchemes } from './security.js';
import { pluralPhrase } from './wording.js';

/** Every bound the document states; the settings carry all of them under these names. */
export interface DocumentLimits extends ParameterLimits {
  /** Largest request body in bytes. */
  readonly bodyLimit: number;
}

export interface DocumentOptions {
  /** Overrides the model's `api.title`. */
  readonly title?: string;
  /** Overrides the model's `api.version`. */
  readonly version?: string;
  readonly prefix: string;
  readonly publicUrl: string;
  /** KILN_PROBLEM_TYPE_BASE: the start of every problem `type` in the examples and the Problem schema. */
  readonly problemTypeBase: string;
  readonly limits: DocumentLimits;
  /** Custom routes served besides the generated ones (src/openapi/custom-paths.ts). */
  readonly routes?: readonly AnyRoute[];
  /** Path items of routes served outside the generated and custom ones, by full path. */
  readonly extraPaths?: Readonly<Record<string, JsonSchema>>;
  /** What the security schemes state (lifetimes, the cookie); without it the document declares none. */
  readonly security?: SecuritySettings;
  /** Routes among `routes` that are how a caller gets a credential (login, sign-up, …): public. */
  readonly publicRoutes?: readonly AnyRoute[];
}

export function buildOpenApi(model: Model, options: DocumentOptions): JsonSchema {
  const names = new SchemaNames(model.resources);
  const errors = new ErrorResponses(options.problemTypeBase);
  const schemes = options.security && securitySchemes(model, options.security);
  // With authentication, a credential sent to any API operation is checked, and a bad one is a 401.
  // The generated operations add what their access rules answer (access.ts); custom routes keep this.
  const ruled = new DocumentAccess(model, schemes, errors);
  const apiErrors: OperationErrors = schemes ? { for: (codes, always = ANY_ROUTE) => errors.for([...codes, 'KILN_UNAUTHENTICATED'], always) } : errors;
  const operationIds = new Set<string>();
  /** `createManyPosts` is both "createMany posts" and "create manyPosts": the second gets a number. */
  const operationId = (base: string) => {
    let id = base;
    for (let n = 2; operationIds.has(id); n++) id = `${base}${n}`;
    operationIds.add(id);
    return id;
  };
  const { limits } = options;
  const schemas: Record<string, JsonSchema> = { Problem: problemSchema(options.problemTypeBase), Page: pageSchema(limits.pageMaxLimit) };
  const paths: Record<string, JsonSchema> = {};
  for (const r of model.resources) {
    const read = readSchemas(
      r,
      outputSchema(model, r, (target) => names.ref(target).$ref, limits),
      names.of(r, 'Selection'),
    );
    schemas[names.of(r)] = read.full;
    for (const variant of VARIANTS) schemas[names.of(r, variant)] = inputSchema(model, r, variant, idSchema, limits);
    schemas[names.of(r, 'Selection')] = read.selection;
    dropUnfitExamples(r, [names.of(r), ...VARIANTS.map((v) => names.of(r, v)), names.of(r, 'Selection')], schemas, limits);
    const builders = { names, access: (operation: AccessOperation) => ruled.of(r, operation), operationId };
    const generated = resourcePaths(r, builders, options);
    addHookCodes(generated, model.extensions?.hooks.get(r.name), { errors: apiErrors, schemas });
    Object.assign(paths, generated, eventStreamPaths(r, builders, options));
  }
  const recordRef = (name: string) => names.ref(model.resourcesByName.get(name) as Resource);
  // By method and path: the routes served are checked copies of the ones given (routesToServe).
  const publicRoutes = new Set((options.publicRoutes ?? []).map((r) => `${r.method} ${r.path}`));
  const access = (route: AnyRoute) => (route.authenticated ? 'signed-in' : publicRoutes.has(`${route.method} ${route.path}`) ? 'public' : 'anyone');
  const security = schemes && ((route: AnyRoute) => securityRequirement(schemes, access(route)));
  Object.assign(paths, customPaths(options.routes ?? [], { prefix: options.prefix, errors: apiErrors, operationId, recordRef, schemas, security }));
  const probes = healthTag(model.resources.map((r) => r.name));
  const health = healthPaths(errors, probes.name);
  Object.assign(paths, health);
  // Routes served outside the API prefix by authentication (/.well-known/jwks.json, redirects).
  const extra: Record<string, JsonSchema> = structuredClone({ ...options.extraPaths });
  for (const [path, item] of Object.entries(extra)) {
    // The answers the server gives on any route before running it (405, 408, 414, 431) apply to these too.
    for (const operation of Object.values(item)) {
      if (operation && typeof operation === 'object' && 'responses' in operation) {
        operation.responses = { ...errors.for([], []), ...(operation.responses as JsonSchema) };
      }
    }
    paths[path] = { ...(paths[path] as object), ...item };
  }
  // The probes and what authentication serves outside the prefix (the JWKS, the identity-provider redirects) need no credential.
  if (schemes) secureOperations({ ...health, ...extra }, schemes, 'public');
  return {
    openapi: '3.1.0',
    info: infoObject(model.api, options, limits),
    servers: [{ url: options.publicUrl.replace(/\/+$/, '') || '/', description: 'This server' }],
    tags: [
      ...model.resources.map((r) => ({ name: r.name, description: r.description ?? `Operations on ${pluralPhrase(r)}.` })),
      ...(usesTag(paths, AUTH_TAG.name) ? [AUTH_TAG] : []),
      probes,
    ],
    paths,
    components: {
      schemas,
      responses: errors.components(),
      parameters: sharedParameters(limits),
      headers: HEADERS,
      ...(schemes && { securitySchemes: schemes }),
    },
  };
}

/** The tag of authentication's routes (src/auth/*-routes.ts). */
const AUTH_TAG = { name: 'auth', description: 'Accounts: sign-up, sign-in with tokens or a session cookie, API keys, identity providers.' };

function usesTag(paths: Record<string, JsonSchema>, tag: string): boolean {
  return Object.values(paths).some((item) =>
    Object.values(item).some((op) => Array.isArray((op as JsonSchema | undefined)?.tags) && (op as { tags: string[] }).tags.includes(tag)),
  );
}

/** A field example the API would refuse is left out of the schemas rather than shown. */
function dropUnfitExamples(r: Resource, schemaNames: readonly string[], schemas: Record<string, JsonSchema>, limits: DocumentLimits): void {
  for (const field of r.fields) {
    if (field.example === undefined || fitsField(field, field.example, limits)) continue;
    for (const name of schemaNames) {
      const property = (schemas[name]?.properties as Record<string, JsonSchema> | undefined)?.[field.name];
      if (property) delete property.examples;
    }
  }
}
