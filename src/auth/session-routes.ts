/**
 * Signing in and out with a session cookie, for browser clients: POST /auth/session checks a login
 * and password like the token login and sets the cookie; GET /auth/session gives a page that was
 * reloaded its CSRF token again; DELETE /auth/session ends the session. The session authenticator
 * (sessions.ts) and the hooks it needs come with them.
 */
import type { JsonSchema } from '../core/schemas.js';
import { defineRoute } from '../extensions/define.js';
import { checkCredentials, SIGN_IN_BODY, SIGN_IN_ERRORS } from './credentials.js';
import type { AuthModule, AuthRuntime } from './runtime.js';
import type { SessionService } from './sessions.js';

export const SESSION_INFO = {
  type: 'object',
  properties: {
    data: {
      type: 'object',
      properties: {
        csrfToken: {
          type: 'string',
          maxLength: 64,
          description: 'Send it as the X-CSRF-Token header with every POST, PUT, PATCH and DELETE made with the cookie.',
        },
        expiresAt: {
          type: 'string',
          format: 'date-time',
          maxLength: 40,
          description: 'When the session ends however active it is; unused, it ends sooner (KILN_AUTH_SESSION_IDLE_S).',
        },
      },
      required: ['csrfToken', 'expiresAt'],
    },
  },
  required: ['data'],
} as const satisfies JsonSchema;

const COOKIE_ONLY =
  'Answers 401 when the request is not authenticated by the session cookie (a bearer token has no session), or when its session has ended; the answer then also clears the cookie.';

/** The session routes of a runtime whose model declares accounts. */
export function sessionModule(runtime: AuthRuntime, sessions: SessionService): AuthModule {
  const signIn = defineRoute<Record<string, string>, Record<string, never>, { login: string; password: string }>({
    method: 'POST',
    path: '/auth/session',
    tags: ['auth'],
    summary: 'Sign in with a session cookie',
    description:
      'Checks the login and password like POST /auth/login, then sets the session cookie (HttpOnly, SameSite=Lax, Secure and named __Host-kiln_session over TLS) and answers the CSRF token to send with every unsafe request. A session cookie sent with this request is ended: a signed-in session always has a new id. Limited per client IP and per login.',
    body: SIGN_IN_BODY,
    response: SESSION_INFO,
    errors: SIGN_IN_ERRORS,
    async handler({ body, http }) {
      const account = await checkCredentials(runtime, { login: body.login, password: body.password, ip: http.ip });
      return { data: await sessions.start(http, account.id) };
    },
  });

  const current = defineRoute({
    method: 'GET',
    path: '/auth/session',
    tags: ['auth'],
    summary: 'The current session',
    description: `The CSRF token and the end of the session the cookie names, for a page that was reloaded. ${COOKIE_ONLY}`,
    authenticated: true,
    response: SESSION_INFO,
    errors: ['KILN_REDIS_UNAVAILABLE'],
    handler: ({ http }) => ({ data: sessions.current(http) }),
  });

  const signOut = defineRoute({
    method: 'DELETE',
    path: '/auth/session',
    tags: ['auth'],
    summary: 'Sign out of the session',
    description: `Ends the session the cookie names and clears the cookie. Needs the X-CSRF-Token header, like every unsafe request made with the cookie. ${COOKIE_ONLY}`,
    authenticated: true,
    status: 204,
    errors: ['KILN_AUTH_CSRF', 'KILN_REDIS_UNAVAILABLE'],
    handler: ({ http }) => sessions.end(http),
  });

  return {
    routes: [signIn, current, signOut],
    authenticators: [sessions.authenticator()],
    register: (app) => sessions.register(app),
  };
}
