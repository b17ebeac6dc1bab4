import type { FastifyInstance } from 'fastify';
import type { Database } from '../db/database.js';

/** The part of a pino logger the fault log writes with. */
export interface FaultLogger {
  error(fields: Record<string, unknown>, msg: string): void;
}

/** Time and timers, replaceable so tests can move time by hand. */
export interface FaultClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface FaultLogOptions {
  /** How long repeats of a cause are counted before one line reports them. */
  readonly windowMs?: number;
  readonly clock?: FaultClock;
  /** Causes counted at once; past it, occurrences are logged one by one rather than held in memory. */
  readonly maxCauses?: number;
}

export interface RecordOptions {
  /** Writes the first line (a request's logger, so it carries the request id); the summaries go to the fault log's own. */
  readonly log?: FaultLogger;
  /** Message of the first line; the label by default. */
  readonly msg?: string;
  /** Log the cause with its stack: for defects, where it shows the place; an outage's stack shows only the driver. */
  readonly stack?: boolean;
}

/** Ten seconds: an operator sees how often a fault happens soon after it does, at one line per cause per window. */
export const FAULT_WINDOW_MS = 10_000;
const MAX_CAUSES = 1000;

const realClock: FaultClock = {
  now: () => Date.now(),
  // Unref'd: a pending count must not keep a stopping process alive; flush() writes it on close.
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface OpenCause {
  readonly msg: string;
  since: number;
  repeats: number;
  timer: unknown;
}

/**
 * Logs each cause of a server-side failure once, then counts it. An outage fails every request the
 * same way, and a line with a stack per request would bury the one line that matters. The first
 * occurrence of a cause is logged with the cause; repeats within the window are only counted; when
 * the window ends, one line says how many more there were, and the next window counts again. A
 * window without repeats means the cause has stopped: it is forgotten, so a later recurrence is
 * logged in full again.
 */
export class FaultLog {
  readonly #log: FaultLogger;
  readonly #windowMs: number;
  readonly #clock: FaultClock;
  readonly #maxCauses: number;
  readonly #open = new Map<string, OpenCause>();

  constructor(log: FaultLogger, options: FaultLogOptions = {}) {
    this.#log = log;
    this.#windowMs = options.windowMs ?? FAULT_WINDOW_MS;
    this.#clock = options.clock ?? realClock;
    this.#maxCauses = options.maxCauses ?? MAX_CAUSES;
  }

  /** One occurrence of a failure: `label` names what failed (an error code), `cause` is what the driver or code threw. */
  record(label: string, cause: unknown, options: RecordOptions = {}): void {
    const key = faultKey(label, cause);
    const open = this.#open.get(key);
    if (open) {
      open.repeats++;
      return;
    }
    const msg = options.msg ?? label;
    const fields: Record<string, unknown> = { fault: key };
    // `err` gets pino's error serializer (with the stack); `cause` is written as it is.
    if (cause !== undefined) fields[options.stack ? 'err' : 'cause'] = options.stack ? cause : describe(cause);
    (options.log ?? this.#log).error(fields, msg);
    if (this.#open.size >= this.#maxCauses) return;
    this.#open.set(key, { msg, since: this.#clock.now(), repeats: 0, timer: this.#schedule(key) });
  }

  /** Writes the counts still pending and forgets every cause (on close). */
  flush(): void {
    for (const [key, open] of this.#open) {
      this.#clock.clearTimeout(open.timer);
      if (open.repeats > 0) this.#report(key, open);
    }
    this.#open.clear();
  }

  #schedule(key: string): unknown {
    return this.#clock.setTimeout(() => this.#windowEnded(key), this.#windowMs);
  }

  #windowEnded(key: string): void {
    const open = this.#open.get(key);
    if (!open) return;
    if (open.repeats === 0) {
      this.#open.delete(key);
      return;
    }
    this.#report(key, open);
    open.repeats = 0;
    open.since = this.#clock.now();
    open.timer = this.#schedule(key);
  }

  #report(key: string, open: OpenCause): void {
    this.#log.error({ fault: key, repeats: open.repeats, periodMs: this.#clock.now() - open.since }, `${open.msg} (repeated)`);
  }
}

/**
 * What makes two failures "the same cause": the label with the SQLSTATE or errno when the error has
 * one, else the error's name and message with the values in it (quoted text, numbers) masked, so
 * "no answer in 2000 ms" and "no answer in 1999 ms" count together.
 */
export function faultKey(label: string, cause: unknown): string {
  if (cause === undefined) return label;
  const { code, name, message } = (typeof cause === 'object' && cause !== null ? cause : { message: String(cause) }) as Record<string, unknown>;
  if (typeof code === 'string' && code !== '') return `${label} ${code}`;
  const text = String(message ?? '')
    .replace(/"[^"]*"|'[^']*'|\d+(\.\d+)?/g, '?')
    .slice(0, 200);
  return `${label} ${typeof name === 'string' ? name : 'Error'}: ${text}`;
}

/** The cause without its stack: type, message and code are what tell one outage from another. */
function describe(cause: unknown): Record<string, unknown> {
  if (typeof cause !== 'object' || cause === null) return { message: String(cause) };
  const { code, message } = cause as Record<string, unknown>;
  return { type: cause.constructor?.name ?? 'Object', message: String(message ?? ''), ...(code === undefined ? {} : { code }) };
}

/**
 * The app's fault log: the error handler records every ≥ 500 answer in it, the database its idle
 * connections that fail; pending counts are written when the app closes.
 */
export function installFaultLog(app: FastifyInstance, db: Database): FaultLog {
  const faults = new FaultLog(app.log);
  const unwatch = db.onConnectionError((error) => faults.record('database connection lost while idle', error));
  app.addHook('onClose', (_app, done) => {
    unwatch();
    faults.flush();
    done();
  });
  return faults;
}
