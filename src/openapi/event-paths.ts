/**
 * `GET /v1/{resource}/events` in the OpenAPI document: the resource's change events as Server-Sent
 * Events (src/rest/event-stream.ts), with the list's filters as its only parameters and the list's
 * access (a subscriber receives what its list would show).
 */
import type { JsonSchema } from '../core/schemas.js';
import type { Resource } from '../model/ir.js';
import { toPascalCase } from '../model/naming.js';
import type { DocumentOptions } from './document.js';
import type { Builders } from './resource-paths.js';
import { header } from './responses.js';

export function eventStreamPaths(r: Resource, { access, operationId }: Builders, options: DocumentOptions): Record<string, JsonSchema> {
  const listing = access('list');
  return {
    [`${options.prefix}/${r.path}/events`]: {
      get: listing.decorate({
        operationId: operationId(`stream${toPascalCase(r.name)}Events`),
        tags: [r.name],
        summary: `Stream changes to ${r.name}`,
        description: [
          `Server-Sent Events (send \`Accept: text/event-stream\`): one event per ${r.singular} created, updated or deleted from now on that the caller may read and that matches the filters, after the change.`,
          '`event:` is `created`, `updated` or `deleted`; `id:` the record\'s id; `data:` what GET of the record answers the caller (`{"data":{"id":…}}` for a deletion).',
          `Takes the filter parameters of GET ${options.prefix}/${r.path} (not repeated here, to keep the document small), and no other parameter.`,
          'A comment line every 15 seconds keeps the connection open. Missed events are not replayed (`Last-Event-ID` is ignored): read the list again after reconnecting.',
          'An `event: error` with a problem document ends the stream (`KILN_SUBSCRIPTION_LIMIT` when the subscriber fell 1,000 events behind).',
        ].join(' '),
        responses: {
          200: {
            description: 'The stream of events; it lasts until the client or the server closes it.',
            headers: { 'X-Request-Id': header('XRequestId') },
            content: { 'text/event-stream': { schema: { type: 'string', maxLength: 2147483647 } } },
          },
          ...listing.errors.for(['KILN_QUERY_INVALID', 'KILN_SUBSCRIPTION_LIMIT']),
        },
      }),
    },
  };
}
