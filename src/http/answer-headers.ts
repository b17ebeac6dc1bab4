/**
 * Headers the pipeline's stages set for a request's answer (RequestContext.response): the stages know
 * no reply, so what they set is kept by request and written when the answer is sent, whatever sends
 * it (a route, the error handler, GraphQL). Only an app with a stage that sets any (the rate limits)
 * makes one, so the others pay nothing.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ResponseHeaders } from '../pipeline/context.js';

export class AnswerHeaders {
  readonly #pending = new WeakMap<FastifyRequest, Record<string, string>>();

  /** Where the stages of one request set headers; copies of its context share it. */
  of(req: FastifyRequest): ResponseHeaders {
    const pending = this.#pending;
    return {
      set(name, value) {
        const headers = pending.get(req);
        if (headers) headers[name] = value;
        else pending.set(req, { [name]: value });
      },
    };
  }

  /** Writes what was set to the answer; `onSend` also runs for answers the error handler sends. */
  install(app: FastifyInstance): void {
    app.addHook('onSend', (req, reply, payload, done) => {
      const headers = this.#pending.get(req);
      if (headers) reply.headers(headers);
      done(null, payload);
    });
  }
}
