/**
 * Browser sessions: an opaque id in a cookie (session-cookie.ts), kept by a store under its SHA-256
 * only (a copy of the store signs nobody in), with an idle and an absolute timeout. The store is
 * PostgreSQL (this file) or Redis when REDIS_URL is set (redis-sessions.ts); the service on top of it
 * starts sessions at login, turns the cookie into the caller on every request, and ends sessions.
 */
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Settings } from '../config/settings.js';
import { KilnError } from '../core/errors.js';
import type { Queryable } from '../db/database.js';
import type { RouteHttp } from '../extensions/types.js';
import { unauthenticated } from '../http/custom-routes.js';
import type { Authenticator, Credentials } from '../pipeline/authenticate.js';
import type { Principal } from '../pipeline/context.js';
import { type Account, type AccountStore, principalOf, rolesOf } from './account-store.js';
import { checkCsrf, isUnsafeMethod } from './csrf.js';
import { RedisSessionStore } from './redis-sessions.js';
import { hashSecret, newSecret } from './secrets.js';
import { SessionCookie } from './session-cookie.js';

/** A session as stored, under the hash of its id. */
export interface SessionRecord {
  readonly accountId: string;
  readonly csrfToken: string;
  /** The account's roles when the session began or was last rotated: other roles now are a privilege change. */
  readonly roles: readonly string[];
  /** A digest of the account's password hash at login (passwordStamp): another one means a new password. */
  readonly passwordStamp: string;
  /** The absolute timeout: login + KILN_AUTH_SESSION_ABSOLUTE_S. */
  readonly expiresAt: Date;
}

export interface SessionStore {
  create(idHash: string, session: SessionRecord): Promise<void>;
  /** The session if it is alive (before its expiry, used within the idle timeout), now marked as used; else undefined. */
  touch(idHash: string): Promise<SessionRecord | undefined>;
  /** Moves a session to a new id with the account's current roles; false when the old id is gone (another request rotated it). */
  rotate(oldHash: string, newHash: string, roles: readonly string[]): Promise<boolean>;
  destroy(idHash: string): Promise<void>;
  destroyAll(accountId: string): Promise<void>;
}

/** The sessions of a runtime: in Redis when REDIS_URL is set (shared by every instance), else in PostgreSQL. */
export function createSessions(accounts: AccountStore, options: { db: Queryable; settings: Settings; dev: boolean; redis: Redis | undefined }): SessionService {
  const { settings } = options;
  const idle = settings.authSessionIdleS;
  const store = options.redis ? new RedisSessionStore(options.redis, idle) : new PgSessionStore(options.db, idle);
  return new SessionService(store, accounts, new SessionCookie(settings, options.dev), {
    absoluteSeconds: settings.authSessionAbsoluteS,
    apiPrefix: settings.apiPrefix,
  });
}

/**
 * Stands for the password in a session: changes whenever the password hash does, reveals nothing of it.
 * A rehash with new argon2 costs (credentials.ts) changes it too, so those sessions end as well: rare
 * (an operator raised the costs), and the safe side to err on.
 */
export function passwordStamp(account: Pick<Account, 'passwordHash'>): string {
  return hashSecret(`password:${account.passwordHash ?? ''}`);
}

/** The session a request was authenticated with, after any rotation. */
interface RequestSession {
  readonly idHash: string;
  readonly record: SessionRecord;
}

/** What POST and GET /auth/session answer. */
export interface SessionInfo {
  readonly csrfToken: string;
  /** ISO 8601: when the session ends however active it is. */
  readonly expiresAt: string;
}

export class SessionService {
  readonly cookie: SessionCookie;
  readonly #store: SessionStore;
  readonly #accounts: AccountStore;
  readonly #absoluteSeconds: number;
  readonly #loginPath: string;
  /**
   * Per request, keyed by its headers object (the same object reaches the authenticator as
   * `Credentials.headers`, the route handler as `http.headers`, and the hooks as `request.headers`):
   * the session it was authenticated with, the cookie a rotation must send back, and whether it is the
   * login itself. A WeakMap, so nothing outlives the request.
   */
  readonly #sessionOf = new WeakMap<object, RequestSession>();
  readonly #cookieFor = new WeakMap<object, string>();
  readonly #logins = new WeakSet<object>();

  constructor(store: SessionStore, accounts: AccountStore, cookie: SessionCookie, options: { absoluteSeconds: number; apiPrefix: string }) {
    this.#store = store;
    this.#accounts = accounts;
    this.cookie = cookie;
    this.#absoluteSeconds = options.absoluteSeconds;
    this.#loginPath = `${options.apiPrefix}/auth/session`;
  }

  /**
   * Signs the request's client in as `accountId`: a new session, its cookie set on the answer. A
   * session id the client sent is destroyed first, whoever it belonged to: an id planted in the
   * browser before login (session fixation) never becomes a signed-in session.
   */
  async start(http: RouteHttp, accountId: string): Promise<SessionInfo> {
    const before = this.cookie.read(http.headers);
    if (before) await this.#store.destroy(hashSecret(before));
    const account = await this.#accounts.findById(accountId);
    if (!account) throw new Error(`no account ${accountId} to start a session for`);
    const id = newSecret();
    const record: SessionRecord = {
      accountId: account.id,
      csrfToken: newSecret(),
      roles: account.roles,
      passwordStamp: passwordStamp(account),
      expiresAt: new Date(Date.now() + this.#absoluteSeconds * 1000),
    };
    await this.#store.create(hashSecret(id), record);
    http.setHeader('set-cookie', this.cookie.set(id));
    return infoOf(record);
  }

  /** The session of a request the cookie authenticated; 401 when another credential (or none) did. */
  current(http: RouteHttp): SessionInfo {
    const session = this.#sessionOf.get(http.headers);
    if (!session) throw unauthenticated('this route needs the session cookie: sign in with POST /auth/session');
    return infoOf(session.record);
  }

  /** Ends the session the request was authenticated with, and tells the browser to drop the cookie. */
  async end(http: RouteHttp): Promise<void> {
    const session = this.#sessionOf.get(http.headers);
    if (!session) throw unauthenticated('this route needs the session cookie: sign in with POST /auth/session');
    await this.#store.destroy(session.idHash);
    this.#cookieFor.delete(http.headers);
    http.setHeader('set-cookie', this.cookie.clear());
  }

  /** Ends every session of an account (password change or reset, "log out everywhere", an operator). */
  revokeAll(accountId: string): Promise<void> {
    return this.#store.destroyAll(accountId);
  }

  /**
   * The caller a session cookie names. No cookie, or an Authorization header (which then decides
   * alone): undefined. A dead session: 401 with a Set-Cookie that clears it. The account is read on
   * every request, so disabling it or changing its roles takes effect at once; an unsafe method needs
   * the CSRF token (csrf.ts). The login route ignores the cookie: it replaces the session anyway, and
   * a stale cookie must not stand between a user and signing in again.
   */
  authenticator(): Authenticator {
    // Synchronous when there is no session cookie (no promise for an anonymous or token request).
    return ({ headers, method }) => {
      if (headers.authorization !== undefined || this.#logins.has(headers)) return undefined;
      const id = this.cookie.read(headers);
      return id ? this.#authenticate(id, headers, method) : undefined;
    };
  }

  async #authenticate(id: string, headers: Credentials['headers'], method: string): Promise<Principal> {
    const idHash = hashSecret(id);
    const record = await this.#store.touch(idHash);
    if (!record) throw this.#ended('the session has expired or was ended; sign in again');
    const account = await this.#accounts.findById(record.accountId);
    if (!account || account.disabled || passwordStamp(account) !== record.passwordStamp) {
      await this.#store.destroy(idHash);
      throw this.#ended(account?.disabled ? 'the account of this session is disabled' : 'the session was ended; sign in again');
    }
    if (isUnsafeMethod(method)) checkCsrf(headers, record.csrfToken);
    this.#sessionOf.set(headers, await this.#rotateOnNewRoles(headers, idHash, record, account));
    return principalOf(account);
  }

  /**
   * Adds what the service needs of every request: it marks the login request (whose cookie the
   * authenticator ignores) and adds the cookie of a rotation to the answer, whatever its status (the
   * old id is dead: a browser left without the new one would be signed out).
   */
  register(app: FastifyInstance): void {
    // Callback hooks: an async hook costs every request a promise and a tick.
    app.addHook('onRequest', (req, _reply, done) => {
      if (req.method === 'POST' && req.routeOptions.url === this.#loginPath) this.#logins.add(req.headers);
      done();
    });
    app.addHook('onSend', (req, reply, payload, done) => {
      const cookie = this.#cookieFor.get(req.headers);
      if (cookie !== undefined) {
        const before = reply.getHeader('set-cookie');
        reply.header('set-cookie', before === undefined ? cookie : [...[before].flat().map(String), cookie]);
      }
      done(null, payload);
    });
  }

  /**
   * A privilege change (the account's roles are not the ones the session began with) rotates the
   * session rather than ending it: the user keeps working with the new roles, and an id that leaked
   * before the change (a log, a shared machine) does not carry the new privileges. A new password
   * ends the session instead (see the authenticator): it is how a user evicts whoever holds the old
   * one. The CSRF token is kept, so a page's next write does not fail on a token it cannot have seen.
   * A request still in flight with the old id when another rotates it is answered 401 (the old id is
   * dead): the price of never keeping two live ids for one session.
   */
  async #rotateOnNewRoles(headers: object, idHash: string, record: SessionRecord, account: Account): Promise<RequestSession> {
    if (sameRoles(record.roles, account.roles)) return { idHash, record };
    const id = newSecret();
    const newHash = hashSecret(id);
    const rotated = { ...record, roles: account.roles };
    // Lost to a concurrent request of the same browser: that one sends the new cookie; this one goes on.
    if (!(await this.#store.rotate(idHash, newHash, account.roles))) return { idHash, record: rotated };
    this.#cookieFor.set(headers, this.cookie.set(id));
    return { idHash: newHash, record: rotated };
  }

  #ended(detail: string): KilnError {
    return new KilnError('KILN_UNAUTHENTICATED', { detail, headers: { 'www-authenticate': 'Bearer realm="kiln"', 'set-cookie': this.cookie.clear() } });
  }
}

function infoOf(record: SessionRecord): SessionInfo {
  return { csrfToken: record.csrfToken, expiresAt: record.expiresAt.toISOString() };
}

function sameRoles(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

/** Sessions in the table kiln_auth_sessions; time is the database's (now()), like the timeouts' tests. */
export class PgSessionStore implements SessionStore {
  readonly #db: Queryable;
  readonly #idleSeconds: number;
  /** A session's last use is written at most this often: a read request should not always cost a write. */
  readonly #touchEverySeconds: number;

  constructor(db: Queryable, idleSeconds: number) {
    this.#db = db;
    this.#idleSeconds = idleSeconds;
    this.#touchEverySeconds = Math.min(60, Math.floor(idleSeconds / 10));
  }

  async create(idHash: string, s: SessionRecord): Promise<void> {
    // The account's dead sessions go now: the table holds live sessions, not every login ever made.
    await this.#db.query(
      `DELETE FROM "kiln_auth_sessions" WHERE "account_id" = $1 AND ("expires_at" <= now() OR "last_seen_at" <= now() - $2 * interval '1 second')`,
      [s.accountId, this.#idleSeconds],
    );
    await this.#db.query(
      `INSERT INTO "kiln_auth_sessions" ("id_hash", "account_id", "csrf_token", "roles", "password_stamp", "expires_at") VALUES ($1, $2, $3, $4, $5, $6)`,
      [idHash, s.accountId, s.csrfToken, JSON.stringify(s.roles), s.passwordStamp, s.expiresAt],
    );
  }

  async touch(idHash: string): Promise<SessionRecord | undefined> {
    const rows = await this.#db.query<SessionRow & { stale: boolean }>(
      `SELECT "account_id", "csrf_token", "roles", "password_stamp", "expires_at", "last_seen_at" <= now() - $3 * interval '1 second' AS "stale"
       FROM "kiln_auth_sessions" WHERE "id_hash" = $1 AND "expires_at" > now() AND "last_seen_at" > now() - $2 * interval '1 second'`,
      [idHash, this.#idleSeconds, this.#touchEverySeconds],
    );
    const row = rows[0];
    if (!row) return undefined;
    if (row.stale) await this.#db.query(`UPDATE "kiln_auth_sessions" SET "last_seen_at" = now() WHERE "id_hash" = $1`, [idHash]);
    return recordOf(row);
  }

  async rotate(oldHash: string, newHash: string, roles: readonly string[]): Promise<boolean> {
    const rows = await this.#db.query(`UPDATE "kiln_auth_sessions" SET "id_hash" = $2, "roles" = $3, "last_seen_at" = now() WHERE "id_hash" = $1 RETURNING 1`, [
      oldHash,
      newHash,
      JSON.stringify(roles),
    ]);
    return rows.length > 0;
  }

  async destroy(idHash: string): Promise<void> {
    await this.#db.query(`DELETE FROM "kiln_auth_sessions" WHERE "id_hash" = $1`, [idHash]);
  }

  async destroyAll(accountId: string): Promise<void> {
    await this.#db.query(`DELETE FROM "kiln_auth_sessions" WHERE "account_id" = $1`, [accountId]);
  }
}

interface SessionRow {
  account_id: string;
  csrf_token: string;
  roles: unknown;
  password_stamp: string;
  expires_at: Date | string;
}

function recordOf(row: SessionRow): SessionRecord {
  return {
    accountId: row.account_id,
    csrfToken: row.csrf_token,
    roles: rolesOf(row.roles),
    passwordStamp: row.password_stamp,
    expiresAt: new Date(row.expires_at),
  };
}
