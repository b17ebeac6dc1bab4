/**
 * What the OpenAPI document says of the rate limits: the RateLimit-Policy and RateLimit fields on
 * every 2xx and 4xx response (optional: sent on the answers to calls a limit counted), and on each
 * limited operation its policy in words and the 429 KILN_RATE_LIMITED with Retry-After. This is what
 * the OWASP API4:2023 rules of Spectral look for (test/openapi/owasp.test.ts).
 */
import type { JsonSchema } from '../core/schemas.js';
import type { Model } from '../model/ir.js';
import { ErrorResponses } from '../openapi/responses.js';
import type { OperationName } from '../pipeline/rate-limit.js';
import type { PolicyTable } from './policies.js';
import { describeRate } from './rate.js';

/** The REST route of each operation, below `<prefix>/<resource path>`. */
const ROUTES: readonly (readonly [OperationName, string, string])[] = [
  ['list', 'get', ''],
  ['create', 'post', ''],
  ['createMany', 'post', '/bulk'],
  ['get', 'get', '/{id}'],
  ['update', 'patch', '/{id}'],
  ['replace', 'put', '/{id}'],
  ['remove', 'delete', '/{id}'],
];

const RATE_LIMITED = '#/components/responses/KILN_RATE_LIMITED';

export interface DescribeOptions {
  readonly prefix: string;
  readonly problemTypeBase: string;
}

/** Adds the rate limits to a document built by buildOpenApi (before it is served). */
export function describeRateLimits(document: JsonSchema, model: Model, policies: PolicyTable, options: DescribeOptions): void {
  const components = document.components as Record<string, Record<string, JsonSchema>>;
  // A copy: the headers of buildOpenApi are a module constant.
  components.headers = { ...components.headers, ...rateLimitHeaders(policies) };
  components.responses ??= {};
  components.responses.KILN_RATE_LIMITED ??= rateLimitedResponse(options.problemTypeBase);
  const paths = document.paths as Record<string, Record<string, JsonSchema>>;
  for (const r of model.resources) {
    for (const [operation, method, suffix] of ROUTES) {
      const policy = policies.of(r.name, operation);
      const described = paths[`${options.prefix}/${r.path}${suffix}`]?.[method];
      if (!policy || !described) continue;
      const responses = described.responses as Record<string, JsonSchema>;
      responses['429'] ??= { $ref: RATE_LIMITED };
      const sentence = `Rate limit \`${policy.name}\`: ${describeRate(policy.rate)} per caller (its account, API key, or client IP); past it, 429 with Retry-After.`;
      described.description = typeof described.description === 'string' ? `${described.description}\n\n${sentence}` : sentence;
    }
  }
  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item)) {
      const responses = (operation as JsonSchema | undefined)?.responses as Record<string, JsonSchema> | undefined;
      if (responses) declareFields(responses, components.responses);
    }
  }
}

/** `RateLimit` and `RateLimit-Policy` on every 2xx and 4xx response: in place, or on the component a response refers to. */
function declareFields(responses: Record<string, JsonSchema>, shared: Record<string, JsonSchema>): void {
  for (const [status, response] of Object.entries(responses)) {
    if (!/^[24]/.test(status)) continue;
    const ref = typeof response.$ref === 'string' ? response.$ref : undefined;
    const name = ref?.startsWith('#/components/responses/') ? ref.slice('#/components/responses/'.length) : undefined;
    if (ref && !name) continue;
    const target = name ? shared[name] : response;
    if (!target) continue;
    const withFields = { ...target, headers: { ...(target.headers as object | undefined), ...FIELD_REFS } };
    if (name) shared[name] = withFields;
    else responses[status] = withFields;
  }
}

const FIELD_REFS = {
  'RateLimit-Policy': { $ref: '#/components/headers/RateLimitPolicy' },
  RateLimit: { $ref: '#/components/headers/RateLimit' },
};

function rateLimitHeaders(policies: PolicyTable): Record<string, JsonSchema> {
  // Every policy at most once per answer: `"<name>";q=<9 digits>;w=86400` and `"<name>";r=<9 digits>;t=86400`, comma-separated.
  const maxLength = policies.all.reduce((sum, p) => sum + p.name.length + 32, 0);
  const names = policies.all.map((p) => `\`${p.name}\` (${describeRate(p.rate)})`).join(', ');
  return {
    RateLimitPolicy: {
      description: `The rate-limit policies that counted this call (draft-ietf-httpapi-ratelimit-headers): \`"<policy>";q=<calls>;w=<seconds>\`, one item per policy. Sent on the answers to the API's operations (REST, and GraphQL root fields). This server's policies: ${names}.`,
      schema: { type: 'string', maxLength },
    },
    RateLimit: {
      description:
        'What is left of each policy for this caller: `"<policy>";r=<calls left now>;t=<seconds until the whole quota is back>`, one item per policy of RateLimit-Policy. Each caller has a token bucket per policy, refilled continuously (q per w seconds).',
      schema: { type: 'string', maxLength },
    },
  };
}

function rateLimitedResponse(problemTypeBase: string): JsonSchema {
  const errors = new ErrorResponses(problemTypeBase);
  errors.for(['KILN_RATE_LIMITED'], []);
  return errors.components().KILN_RATE_LIMITED as JsonSchema;
}
