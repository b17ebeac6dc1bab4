/**
 * `GET /v1/{resource}/events`: the resource's change events as Server-Sent Events. The query string
 * takes the list's filters and nothing else; the caller is authenticated like any REST request, and
 * the subscription is checked by running its read once, so a bad filter or a caller who may not read
 * the resource is answered with the list's own problem before the stream starts. Each event is then
 * the record read again as the caller (src/events/delivery.ts):
 *
 *   event: updated
 *   id: 42
 *   data: {"data":{"id":42,"title":"…",…}}
 *
 * `data` is what GET /v1/{resource}/{id} answers (`{"data":{"id":42}}` for a deletion). A comment
 * line every 15 seconds keeps proxies from closing an idle stream; shutdown ends every stream.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CompiledResource } from '../core/compiled-model.js';
import { KilnError } from '../core/errors.js';
import type { Operations } from '../core/operations.js';
import { toProblem } from '../core/problem.js';
import { CHANGE_TYPES, type EventBus } from '../events/bus.js';
import { checkSubscription, type Delivery, type SubscriptionSpec } from '../events/delivery.js';
import { ChangeFeed } from '../events/feed.js';
import { parseListQuery, type RawQuery } from './query-grammar.js';
import type { ContextOf } from './request-context.js';

export interface EventStreamDeps {
  readonly ops: Operations;
  readonly contextOf: ContextOf;
  readonly prefix: string;
  readonly bus: EventBus;
}

export const EVENTS_SEGMENT = 'events';
const HEARTBEAT_MS = 15_000;
const EVERY_TYPE = new Set(CHANGE_TYPES);
/** The list parameters that are not filters: a stream has no page, order or selection. */
const NOT_FILTERS = new Set(['fields', 'include', 'sort', 'limit', 'count', 'cursor']);

/** Whether a request may skip the JSON-only Accept gate: one asking an event stream for its events. */
export function wantsEventStream(url: string, accept: string | undefined): boolean {
  if (accept === undefined || !accept.toLowerCase().includes('text/event-stream')) return false;
  const query = url.indexOf('?');
  return (query === -1 ? url : url.slice(0, query)).replace(/\/$/, '').endsWith(`/${EVENTS_SEGMENT}`);
}

/** The open streams of a server: one heartbeat for all, and one call to end them all at shutdown. */
export class EventStreams {
  readonly #open = new Set<{ reply: FastifyReply; feed: ChangeFeed }>();
  readonly #heartbeat: NodeJS.Timeout;

  constructor() {
    this.#heartbeat = setInterval(() => {
      for (const { reply } of this.#open) reply.raw.write(': heartbeat\n\n');
    }, HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  register(app: FastifyInstance, r: CompiledResource, deps: EventStreamDeps): void {
    const name = r.resource.name;
    app.get(`${deps.prefix}/${r.resource.path}/${EVENTS_SEGMENT}`, async (req: FastifyRequest<{ Querystring: RawQuery }>, reply) => {
      refuseNonFilters(req.query);
      const ctx = await deps.contextOf(req);
      const args = parseListQuery(req.query);
      const spec: SubscriptionSpec = { ctx, resource: name, filters: args.filters ?? [], types: EVERY_TYPE, selection: {} };
      // Subscribed before the check, so nothing written meanwhile is missed.
      const feed = new ChangeFeed(deps.bus, deps.ops, spec);
      try {
        await checkSubscription(deps.ops, spec, args.problems);
      } catch (error) {
        feed.end();
        throw error;
      }
      this.#stream(reply, r, feed);
    });
  }

  /** Ends every stream (shutdown): their connections close, so the server can drain. */
  close(): void {
    clearInterval(this.#heartbeat);
    for (const stream of this.#open) {
      stream.feed.end();
      stream.reply.raw.end();
    }
    this.#open.clear();
  }

  #stream(reply: FastifyReply, r: CompiledResource, feed: ChangeFeed): void {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      ...(reply.getHeaders() as OutgoingHttpHeaders),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // nginx buffers responses unless told otherwise; an event must not wait for the next one.
      'x-accel-buffering': 'no',
    });
    raw.write(': subscribed\n\n');
    const stream = { reply, feed };
    this.#open.add(stream);
    raw.on('close', () => {
      this.#open.delete(stream);
      feed.end();
    });
    void this.#pump(reply, r, feed).finally(() => {
      this.#open.delete(stream);
      raw.end();
    });
  }

  async #pump(reply: FastifyReply, r: CompiledResource, feed: ChangeFeed): Promise<void> {
    const raw = reply.raw;
    try {
      for await (const delivery of feed) {
        if (!raw.write(eventText(delivery, r))) await new Promise((resolve) => raw.once('drain', resolve).once('close', resolve));
      }
    } catch (error) {
      const known = error instanceof KilnError ? error : undefined;
      if (!known) reply.request.log.error({ err: error }, 'event stream failed');
      const problem = known ?? new KilnError('KILN_INTERNAL', { detail: 'an unexpected error occurred; the server log has the cause under this request id' });
      raw.write(`event: error\ndata: ${JSON.stringify(toProblem(problem, String(reply.request.id), reply.server.problemTypeBase))}\n\n`);
    }
  }
}

function eventText({ event, record }: Delivery, r: CompiledResource): string {
  const data = record ? r.serialize.one({ data: record }) : JSON.stringify({ data: { id: event.id } });
  return `event: ${event.type}\nid: ${String(event.id)}\ndata: ${data}\n\n`;
}

function refuseNonFilters(query: RawQuery): void {
  const refused = Object.keys(query).filter((key) => NOT_FILTERS.has(key));
  if (refused.length === 0) return;
  throw new KilnError('KILN_QUERY_INVALID', {
    detail: `an event stream takes only filters; got ${refused.map((k) => `"${k}"`).join(', ')}`,
    errors: refused.map((k) => ({ path: k, code: 'unknown', message: `"${k}" is not a filter; an event stream takes only filters` })),
  });
}
