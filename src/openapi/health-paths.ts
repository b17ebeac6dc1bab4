/** The operations of /healthz and /readyz (src/http/health.ts), outside the versioned API. */
import type { JsonSchema } from '../core/schemas.js';
import { type ErrorResponses, header } from './responses.js';

/** The tag of the probes: `health`, unless a resource already has that name. */
export function healthTag(resourceNames: readonly string[]): { name: string; description: string } {
  return {
    name: resourceNames.includes('health') ? 'health-probes' : 'health',
    description: 'Liveness and readiness probes for load balancers and orchestrators.',
  };
}

function status(value: string): JsonSchema {
  return {
    type: 'object',
    properties: { status: { type: 'string', enum: [value] } },
    required: ['status'],
    additionalProperties: false,
  };
}

export function healthPaths(errors: ErrorResponses, tag: string): Record<string, JsonSchema> {
  const ok = (description: string, value: string) => ({
    description,
    headers: { 'X-Request-Id': header('XRequestId') },
    content: { 'application/json': { schema: status(value), example: { status: value } } },
  });
  return {
    '/healthz': {
      get: {
        operationId: 'healthz',
        tags: [tag],
        summary: 'Liveness: the process answers',
        description: 'Answers 200 while the process runs and is not shutting down. It does not touch the database.',
        responses: { 200: ok('The process is alive.', 'ok'), ...errors.for(['KILN_SHUTTING_DOWN'], []) },
      },
    },
    '/readyz': {
      get: {
        operationId: 'readyz',
        tags: [tag],
        summary: 'Readiness: the database answers',
        description: 'Answers 200 when the database answered a ping within 2 s; 503 when it did not, or while the instance shuts down.',
        responses: { 200: ok('Ready to serve.', 'ready'), ...errors.for(['KILN_DATABASE_UNAVAILABLE', 'KILN_SHUTTING_DOWN'], []) },
      },
    },
  };
}
