/**
 * POST /auth/signup: a new account with a password. The record is created through the operations, so
 * the account resource's validation and hooks apply as to any other create; its password hash and
 * signup roles are written in the same transaction. The answer never tells whether the login was
 * already registered: same status, same body, and the same expensive work (the password is hashed
 * either way). The owner of an existing login learns of the attempt by mail, when mail is set up.
 */
import { KilnError } from '../core/errors.js';
import { validationFailed } from '../core/input.js';
import type { Row } from '../core/query.js';
import { inputFieldSchema, type JsonSchema } from '../core/schemas.js';
import { defineRoute } from '../extensions/define.js';
import type { AnyRoute } from '../extensions/types.js';
import { SYSTEM } from '../pipeline/context.js';
import type { Account } from './account-store.js';
import { passwordServices } from './credentials.js';
import type { AuthRuntime } from './runtime.js';

/** RFC 5321's longest address; a login field declaring a shorter maxLength keeps its own. */
const LOGIN_MAX_LENGTH = 320;

type SignupBody = Record<string, unknown> & { password: string };

export function signupRoute(runtime: AuthRuntime): AnyRoute {
  const { accounts, passwords, limiter } = passwordServices(runtime);
  const config = accounts.config;
  const resource = accounts.resource;
  const loginField = config.login;
  const limits = { textMaxLength: runtime.settings.textMaxLength, includeLimit: runtime.settings.includeLimit };
  const properties: Record<string, JsonSchema> = {};
  const required = [loginField, 'password'];
  for (const name of config.signup.fields) {
    const field = resource.fieldsByName.get(name);
    properties[name] = field ? inputFieldSchema(field, limits) : {};
    if (field && !field.nullable && !field.hasDefault) required.push(name);
  }
  const login = resource.fieldsByName.get(loginField);
  properties[loginField] = login ? inputFieldSchema(login, limits) : { type: 'string', minLength: 1, maxLength: LOGIN_MAX_LENGTH };
  properties.password = { type: 'string', maxLength: config.password.maxLength, writeOnly: true };
  const message = runtime.mail
    ? 'unless this login is already registered, the account is created; a mail to it says what to do next'
    : 'unless this login is already registered, the account is created and can sign in';

  return defineRoute<Record<string, string>, Record<string, never>, SignupBody>({
    method: 'POST',
    path: '/auth/signup',
    tags: ['auth'],
    summary: 'Create an account with a password',
    description: `Creates a ${resource.singular} that signs in with \`${loginField}\` and \`password\`${config.signup.roles.length > 0 ? ` and has the roles ${config.signup.roles.join(', ')}` : ''}. The answer is the same whether or not the login is already registered (then nothing is created, and its owner is told by mail when mail is set up). The password must have ${config.password.minLength} to ${config.password.maxLength} characters and differ from the login. Limited per client IP.`,
    body: { type: 'object', properties, required, additionalProperties: false },
    status: 202,
    response: {
      type: 'object',
      properties: { data: { type: 'object', properties: { message: { type: 'string', maxLength: 500 } }, required: ['message'] } },
      required: ['data'],
    },
    errors: ['KILN_VALIDATION_FAILED', 'KILN_RATE_LIMITED', 'KILN_REDIS_UNAVAILABLE'],
    async handler({ ctx, body, http, ops }) {
      await limiter.consume('ip', http.ip);
      const loginValue = accounts.normalizeLogin(String(body[loginField]));
      const policy = passwords.policyErrors(body.password, loginValue);
      if (policy.length > 0) throw validationFailed(policy);
      const existing = await accounts.findByLogin(loginValue);
      // Hashed whether or not the account is created: the time of the answer must not tell which.
      const hash = await passwords.hash(body.password);
      const created = existing ? undefined : await create(body, loginValue, hash);
      if (created) notify('verification', () => runtime.mail?.sendVerification(created));
      const registered = existing ?? (created ? undefined : await accounts.findByLogin(loginValue));
      if (registered) notify('signup attempt', () => runtime.mail?.sendSignupAttempt(registered));
      return { data: { message } };

      async function create(input: SignupBody, loginValue: string, passwordHash: string): Promise<Account | undefined> {
        const { password: _password, ...fields } = input;
        const record = { ...fields, [loginField]: loginValue };
        let row: Row;
        try {
          // Kiln creates the account once its own checks passed, as the system: the account resource's
          // access rules are about requests to it (they usually let nobody create accounts), not this flow.
          row = await ops.create({ ...ctx, principal: SYSTEM }, resource.name, record, {
            around: (write) =>
              ops.transaction(async (tx) => {
                const written = await write(tx);
                const id = String(written.id);
                await accounts.setPasswordHash(id, passwordHash, tx);
                if (config.signup.roles.length > 0) await accounts.setRoles(id, config.signup.roles, tx);
                return written;
              }),
          });
        } catch (error) {
          // Registered by a concurrent signup between the lookup and the insert: answered like any existing login.
          if (error instanceof KilnError && error.code === 'KILN_UNIQUE_VIOLATION' && error.errors?.some((e) => e.path === `/${loginField}`)) {
            return undefined;
          }
          throw error;
        }
        return accounts.findById(String(row.id));
      }

      /** Mail goes out after the answer; a failure is logged (without the link) and never reaches the client. */
      function notify(what: string, send: () => Promise<void> | undefined): void {
        Promise.resolve()
          .then(send)
          .catch((error: unknown) => ctx.log.warn({ err: { message: (error as Error).message } }, `the ${what} mail could not be sent`));
      }
    },
  });
}
