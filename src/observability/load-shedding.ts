/**
 * Load shedding: while the instance is overloaded, a request is answered 503 KILN_OVERLOADED with
 * Retry-After at once, by the HTTP server before Fastify sees it (src/http/server.ts), before it does
 * any work: a client told to retry in a second (or sent to another instance by the load balancer) is
 * better served than one whose request waits in a queue until it times out. Overloaded means one of:
 * - the event loop ran later than KILN_SHED_EVENT_LOOP_DELAY_MS at two checks in a row (one slow
 *   statement or garbage collection delays one check, and the requests it held up still deserve an
 *   answer), or the last check was late and the next one is now overdue by as much;
 * - every statement of the last check interval waited longer than KILN_SHED_POOL_WAIT_MS for a
 *   PostgreSQL connection (a queue that does not drain: CoDel's test; a burst that drains sheds
 *   nothing), and the statement at the head of the queue has waited more than twice that;
 * - more than KILN_SHED_POOL_QUEUE statements wait for a PostgreSQL connection.
 * /healthz, /readyz and /metrics are never shed: an overloaded process is alive, and its metrics are
 * what shows the overload.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Settings } from '../config/settings.js';
import { KilnError } from '../core/errors.js';
import { toProblem } from '../core/problem.js';
import type { ConnectionPool, Database } from '../db/database.js';
import { PROBLEM_TYPE, RETRY_AFTER_SECONDS } from '../http/error-handler.js';
import { requestId } from '../http/observability.js';
import { API_SECURITY_HEADERS } from '../http/security-headers.js';
import type { Signals } from './signals.js';

/** How often the event loop is checked. Also how long shedding lasts at least once it starts (Retry-After: 1 covers it). */
export const CHECK_EVERY_MS = 100;

const NEVER_SHED = new Set(['/healthz', '/readyz', '/metrics']);

type Reason = 'event-loop' | 'pool';

const OVERLOADED = new KilnError('KILN_OVERLOADED', { detail: 'this instance is overloaded; retry after the seconds in Retry-After' });
const RETRY_AFTER = String(RETRY_AFTER_SECONDS.KILN_OVERLOADED);

export interface LoadShedderOptions {
  /** KILN_SHED_EVENT_LOOP_DELAY_MS (0: off). */
  readonly delayBoundMs: number;
  /** KILN_SHED_POOL_WAIT_MS (0: off). */
  readonly waitBoundMs: number;
  /** KILN_SHED_POOL_QUEUE (0: off). */
  readonly queueBound: number;
  readonly pool: ConnectionPool | undefined;
  readonly signals: Signals;
}

export class LoadShedder {
  readonly #delayBoundMs: number;
  readonly #waitBoundMs: number;
  readonly #queueBound: number;
  readonly #pool: ConnectionPool | undefined;
  readonly #signals: Signals;
  readonly #stopObserving: () => void;
  #timer: NodeJS.Timeout | undefined;
  /** When the next check should run (performance.now()). */
  #due = 0;
  /** Checks in a row that ran later than the bound. */
  #late = 0;
  /** The shortest wait for a PostgreSQL connection since the last check (Infinity: no checkout since). */
  #shortestWait = Number.POSITIVE_INFINITY;
  /** A standing queue: over the last interval, every statement waited longer than the wait bound for its connection. */
  #standingQueue = false;

  constructor(options: LoadShedderOptions) {
    this.#delayBoundMs = options.delayBoundMs;
    this.#waitBoundMs = options.pool ? options.waitBoundMs : 0;
    this.#queueBound = options.pool ? options.queueBound : 0;
    this.#pool = options.pool;
    this.#signals = options.signals;
    this.#stopObserving =
      this.#waitBoundMs > 0 && options.pool
        ? options.pool.observeWait((waitedMs) => {
            if (waitedMs < this.#shortestWait) this.#shortestWait = waitedMs;
          })
        : () => {};
    if (this.#delayBoundMs > 0 || this.#waitBoundMs > 0) this.#schedule(performance.now());
  }

  /**
   * Answers the request 503 KILN_OVERLOADED and returns true when the instance is overloaded; false
   * otherwise. Called by the HTTP server for each request before Fastify sees it: a refusal must cost
   * far less than the work it saves, or shedding itself keeps the instance overloaded (no routing, no
   * hooks, no log line; kiln_shed_total counts them).
   */
  refuse(req: IncomingMessage, res: ServerResponse, problemTypeBase: string): boolean {
    const reason = this.reason();
    if (reason === undefined || NEVER_SHED.has(pathOf(req.url ?? '/'))) return false;
    this.#signals.shed(reason);
    const id = requestId(req);
    const body = JSON.stringify(toProblem(OVERLOADED, id, problemTypeBase));
    res.writeHead(503, {
      ...API_SECURITY_HEADERS,
      'x-request-id': id,
      'retry-after': RETRY_AFTER,
      'content-type': PROBLEM_TYPE,
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
    return true;
  }

  /** Why a request arriving now would be shed, if it would. */
  reason(): Reason | undefined {
    if (this.#delayBoundMs > 0 && (this.#late >= 2 || (this.#late === 1 && performance.now() - this.#due > this.#delayBoundMs))) return 'event-loop';
    // While a queue stands, only what would wait too long is refused: requests are let in while the
    // statement at the head of the queue has waited less than twice the bound. Refusing all of them
    // drained the queue, the next interval let everything in, and the queue stood again: accepted
    // requests met a queue of up to one interval's arrivals. Twice the bound keeps the waits of a
    // held queue above the bound, so the standing queue is still seen, and refused, while it lasts.
    // A queue that stood through the last interval and has drained since sheds nothing.
    if (this.#standingQueue && (this.#pool as ConnectionPool).oldestWaitMs > 2 * this.#waitBoundMs) return 'pool';
    if (this.#queueBound > 0 && (this.#pool as ConnectionPool).waiting > this.#queueBound) return 'pool';
    return undefined;
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stopObserving();
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
    if (this.#waitBoundMs > 0) {
      // CoDel's test for a queue that does not drain: even the luckiest statement of the interval waited
      // too long. A burst that one interval absorbs does not count. No checkout at all in an interval is
      // a standing queue only when statements are waiting (the pool is stuck), not when it is idle.
      const shortest = this.#shortestWait;
      this.#standingQueue = shortest === Number.POSITIVE_INFINITY ? (this.#pool as ConnectionPool).waiting > 0 : shortest > this.#waitBoundMs;
      this.#shortestWait = Number.POSITIVE_INFINITY;
    }
    this.#schedule(now);
  };
}

/** The shedder of an app, or undefined when no bound applies (all 0, or only the pool's on PGlite, which has no pool). */
export function createLoadShedder(settings: Settings, db: Database, signals: Signals): LoadShedder | undefined {
  const waitBoundMs = db.pool ? settings.shedPoolWaitMs : 0;
  const queueBound = db.pool ? settings.shedPoolQueue : 0;
  if (settings.shedEventLoopDelayMs === 0 && waitBoundMs === 0 && queueBound === 0) return undefined;
  return new LoadShedder({ delayBoundMs: settings.shedEventLoopDelayMs, waitBoundMs, queueBound, pool: db.pool, signals });
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
