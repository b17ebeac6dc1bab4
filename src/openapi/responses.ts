/**
 * Error responses of the OpenAPI document, from the error registry. Each operation lists the codes
 * its route can really answer with; only codes some operation uses become components, so the
 * document has no dead entries.
 */
import { ERRORS, type ErrorCode } from '../core/errors.js';
import { PROBLEM_TYPE_BASE } from '../core/problem.js';
import type { JsonSchema } from '../core/schemas.js';

const PROBLEM_MEDIA = 'application/problem+json';

/** Failures any API route can answer with once it is routed: content negotiation, the server, the database, shutdown. */
export const ANY_ROUTE: readonly ErrorCode[] = [
  'KILN_NOT_ACCEPTABLE',
  'KILN_INTERNAL',
  'KILN_DATABASE_UNAVAILABLE',
  'KILN_DATABASE_TIMEOUT',
  'KILN_SHUTTING_DOWN',
];

/** Failures of a body: JSON parsing, media type and size, then validation against the schema. */
export const BODY: readonly ErrorCode[] = [
  'KILN_BODY_MALFORMED',
  'KILN_BODY_MISSING',
  'KILN_VALIDATION_FAILED',
  'KILN_BODY_TOO_LARGE',
  'KILN_UNSUPPORTED_MEDIA_TYPE',
];

export const HEADERS = {
  ETag: { description: 'Version of the representation; send it back in If-None-Match or If-Match.', schema: { type: 'string' } },
  Location: { description: 'URL of the new record.', schema: { type: 'string' } },
  XRequestId: { description: 'The request id: the `instance` of a problem, and the key to the server log line.', schema: { type: 'string' } },
  IdempotentReplayed: {
    description: '`true` when this response is the stored first response to the same Idempotency-Key.',
    schema: { type: 'string', enum: ['true'] },
  },
} as const;

export const header = (name: keyof typeof HEADERS) => ({ $ref: `#/components/headers/${name}` });

function example(code: ErrorCode): JsonSchema {
  return {
    type: `${PROBLEM_TYPE_BASE}${code}`,
    title: ERRORS[code].title,
    status: ERRORS[code].status,
    detail: ERRORS[code].title,
    code,
    instance: 'b3f1c2d4-1e2f-4a5b-9c8d-7e6f5a4b3c2d',
  };
}

export class ErrorResponses {
  readonly #used = new Set<ErrorCode>();

  /**
   * The responses of an operation that fails with `codes` (plus `always`, by default ANY_ROUTE), by
   * status. OpenAPI allows one response per status: a status shared by several codes lists them, with
   * one example each.
   */
  for(codes: readonly ErrorCode[], always: readonly ErrorCode[] = ANY_ROUTE): Record<string, JsonSchema> {
    const byStatus = new Map<number, ErrorCode[]>();
    for (const code of new Set([...codes, ...always])) {
      const status = ERRORS[code].status;
      byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
    }
    const out: Record<string, JsonSchema> = {};
    for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
      const [only] = list;
      if (list.length === 1 && only) {
        this.#used.add(only);
        out[String(status)] = { $ref: `#/components/responses/${only}` };
        continue;
      }
      out[String(status)] = {
        description: list.map((c) => `\`${c}\`: ${ERRORS[c].title}.`).join(' '),
        headers: { 'X-Request-Id': header('XRequestId') },
        content: {
          [PROBLEM_MEDIA]: {
            schema: { $ref: '#/components/schemas/Problem' },
            examples: Object.fromEntries(list.map((c) => [c, { summary: ERRORS[c].title, value: example(c) }])),
          },
        },
      };
    }
    return out;
  }

  /** `components.responses`: one per code some operation answers with alone on its status. */
  components(): Record<string, JsonSchema> {
    const codes = (Object.keys(ERRORS) as ErrorCode[]).filter((c) => this.#used.has(c));
    return Object.fromEntries(
      codes.map((code) => [
        code,
        {
          description: `${ERRORS[code].title}. ${ERRORS[code].fix}`,
          headers: { 'X-Request-Id': header('XRequestId') },
          content: { [PROBLEM_MEDIA]: { schema: { $ref: '#/components/schemas/Problem' }, example: example(code) } },
        },
      ]),
    );
  }
}

export function problemSchema(): JsonSchema {
  return {
    type: 'object',
    description: 'RFC 9457 problem details, the body of every error response.',
    properties: {
      type: { type: 'string', format: 'uri', description: `\`${PROBLEM_TYPE_BASE}\` followed by the code.` },
      title: { type: 'string', description: 'The title registered for the code.' },
      status: { type: 'integer', description: 'The HTTP status.' },
      detail: { type: 'string', description: 'What went wrong in this request.' },
      code: { type: 'string', enum: Object.keys(ERRORS), description: 'Stable error code; see docs/reference/errors.md.' },
      instance: { type: 'string', description: 'The request id (also in X-Request-Id).' },
      errors: {
        type: 'array',
        description: 'Each problem found, for validation and query errors.',
        items: {
          type: 'object',
          properties: {
            path: { type: 'string', description: 'JSON pointer into the body (`/title`, `/3/title`), or the query parameter.' },
            code: { type: 'string', description: 'The rule that failed (`required`, `maxLength`, `unknown`, …).' },
            message: { type: 'string' },
          },
          required: ['path', 'code', 'message'],
          additionalProperties: false,
        },
      },
    },
    required: ['type', 'title', 'status', 'detail', 'code', 'instance'],
    additionalProperties: false,
  };
}
