/**
 * Load shedding: while the instance is overloaded, a request is answered 503 KILN_OVERLOADED with
 * Retry-After at once, from the request gate, before it does any work: a client told to retry in a
 * second (or sent to another instance by the load balancer) is better served than one whose request
 * waits in a queue until it times out. Overloaded means one of:
 * - the event loop ran later than KILN_SHED_EVENT_LOOP_DELAY_MS at two checks in a row (one slow
 *   statement or garbage collection delays one check, and the requests it held up still deserve an
 *   answer), or the last check was late and the next one is now overdue by as much;
 * - more than KILN_SHED_POOL_QUEUE statements wait for a PostgreSQL connection.
 * /healthz, /readyz and /metrics are never shed: an overloaded process is alive, and its metrics are
 * what shows the overload.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Settings } from '../config/settings.js';
import { KilnError } from '../core/errors.js';
import type { ConnectionPool, Database } from '../db/database.js';
import { sendProblem } from '../http/error-handler.js';
import type { Signals } from './signals.js';

/** How often the event loop is checked. Also how long shedding lasts at least once it starts (Retry-After: 1 covers it). */
export const CHECK_EVERY_MS = 100;

const NEVER_SHED = new Set(['/healthz', '/readyz', '/metrics']);

type Reason = 'event-loop' | 'pool';

export class LoadShedder {
  readonly #delayBoundMs: number;
  readonly #queueBound: number;
  readonly #pool: ConnectionPool | undefined;
  readonly #signals: Signals;
  #timer: NodeJS.Timeout | undefined;
  /** When the next check should run (performance.now()). */
  #due = 0;
  /** Checks in a row that ran later than the bound. */
  #late = 0;

  constructor(options: { delayBoundMs: number; queueBound: number; pool: ConnectionPool | undefined; signals: Signals }) {
    this.#delayBoundMs = options.delayBoundMs;
    this.#queueBound = options.pool ? options.queueBound : 0;
    this.#pool = options.pool;
    this.#signals = options.signals;
    if (this.#delayBoundMs > 0) this.#schedule(performance.now());
  }

  /** Answers the request 503 KILN_OVERLOADED and returns true when the instance is overloaded; false otherwise. */
  refuse(req: FastifyRequest, reply: FastifyReply): boolean {
    const reason = this.reason();
    if (reason === undefined || NEVER_SHED.has(pathOf(req.url))) return false;
    this.#signals.shed(reason);
    sendProblem(reply, new KilnError('KILN_OVERLOADED', { detail: 'this instance is overloaded; retry after the seconds in Retry-After' }));
    return true;
  }

  /** Why a request arriving now would be shed, if it would. */
  reason(): Reason | undefined {
    if (this.#late >= 2 || (this.#late === 1 && performance.now() - this.#due > this.#delayBoundMs)) return 'event-loop';
    if (this.#queueBound > 0 && (this.#pool as ConnectionPool).waiting > this.#queueBound) return 'pool';
    return undefined;
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(now: number): void {
    this.#due = now + CHECK_EVERY_MS;
    this.#timer = setTimeout(this.#check, CHECK_EVERY_MS);
    // The check must not keep a process alive that has nothing else to do.
    this.#timer.unref();
  }

  readonly #check = (): void => {
    const now = performance.now();
    this.#late = now - this.#due > this.#delayBoundMs ? this.#late + 1 : 0;
    this.#schedule(now);
  };
}

/** The shedder of an app, or undefined when neither bound applies (both 0, or only the pool's on PGlite, which has no pool). */
export function createLoadShedder(settings: Settings, db: Database, signals: Signals): LoadShedder | undefined {
  const queueBound = db.pool ? settings.shedPoolQueue : 0;
  if (settings.shedEventLoopDelayMs === 0 && queueBound === 0) return undefined;
  return new LoadShedder({ delayBoundMs: settings.shedEventLoopDelayMs, queueBound, pool: db.pool, signals });
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
