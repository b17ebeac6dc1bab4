/**
 * The REST side of the authenticate stage: a request's headers and address become the credentials
 * authenticators read, and the principal they name goes into the request's context together with the
 * request id, the request's logger and the limits in force.
 */
import type { FastifyRequest } from 'fastify';
import type { Limits } from '../core/limits.js';
import type { AnswerHeaders } from '../http/answer-headers.js';
import { type Authenticator, authenticate } from '../pipeline/authenticate.js';
import { ANONYMOUS, freshReads, type Principal, type RequestContext } from '../pipeline/context.js';

export type ContextOf = (req: FastifyRequest) => RequestContext | Promise<RequestContext>;

/** `answers`: given when a stage sets headers of the answer (the rate limits); then the context also carries the client's IP. */
export function contextFactory(authenticators: readonly Authenticator[], limits: Limits, answers?: AnswerHeaders): ContextOf {
  const build = (req: FastifyRequest, principal: Principal): RequestContext => ({
    requestId: String(req.id),
    log: req.log,
    principal,
    limits,
    consistency: freshReads(),
    ...(answers && { ip: req.ip, response: answers.of(req) }),
  });
  // With no authenticator every caller is anonymous: no credentials to gather.
  if (authenticators.length === 0) return (req) => build(req, ANONYMOUS);
  return (req) => {
    const principal = authenticate(authenticators, { headers: req.headers, ip: req.ip, method: req.method });
    return principal instanceof Promise ? principal.then((p) => build(req, p)) : build(req, principal);
  };
}
