/**
 * The mail accounts receive: a password-reset link, an email-verification link, and the notice that
 * someone tried to sign up with an address that already has an account (so signup can answer the
 * same whether or not the address is registered). Sending never fails its caller: the request that
 * triggered a mail answers as usual, and a failed delivery is logged, without the token or the link.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Settings } from '../config/settings.js';
import type { Database } from '../db/database.js';
import type { AccountsModel, Resource } from '../model/ir.js';
import type { Account } from './account-store.js';
import { type Mailer, type MailMessage, mailerFor } from './mailer.js';
import { type OneTimePurpose, OneTimeTokens, RESET_TOKEN_TTL_S, VERIFY_TOKEN_TTL_S } from './one-time-tokens.js';

/** The routes a link's token is sent to, below the API prefix (mail-routes.ts serves them). */
export const TOKEN_ROUTES: Readonly<Record<OneTimePurpose, string>> = { reset: '/auth/password/reset', verify: '/auth/verify' };

export interface AccountMailerOptions {
  readonly mailer: Mailer;
  readonly tokens: OneTimeTokens;
  readonly settings: Settings;
  readonly log: FastifyBaseLogger;
  /** Names the application in subjects (the model's API title). */
  readonly appName: string;
}

export class AccountMailer {
  readonly tokens: OneTimeTokens;
  readonly #mailer: Mailer;
  readonly #settings: Settings;
  readonly #log: FastifyBaseLogger;
  readonly #appName: string;
  /** Mail being made or sent: nobody awaits it in the request, so closing waits for it. */
  readonly #pending = new Set<Promise<void>>();

  constructor(options: AccountMailerOptions) {
    this.tokens = options.tokens;
    this.#mailer = options.mailer;
    this.#settings = options.settings;
    this.#log = options.log;
    this.#appName = options.appName;
  }

  /** A verification link to a new or still unverified account; nothing for a verified one. */
  async sendVerification(account: Account): Promise<void> {
    if (account.verified) return;
    await this.#deliver('verify', account, async () => {
      const token = await this.tokens.issue(account.id, 'verify', VERIFY_TOKEN_TTL_S);
      return {
        token,
        message: {
          to: account.login,
          subject: `${this.#appName}: confirm your email address`,
          text: [
            `Confirm that ${account.login} is your address${this.#howToUse('verify', token, 'within 24 hours')}`,
            '',
            'If you did not create an account, ignore this mail.',
          ].join('\n'),
        },
      };
    });
  }

  /** Tells the owner of an existing account that someone signed up with its address again. */
  async sendSignupAttempt(account: Account): Promise<void> {
    await this.#deliver('signup-attempt', account, async () => ({
      message: {
        to: account.login,
        subject: `${this.#appName}: someone tried to sign up with your address`,
        text: [
          `Someone tried to create an account with ${account.login}, which already has one.`,
          '',
          'If it was you, sign in with your password, or ask for a password reset if you forgot it.',
          'If it was not you, ignore this mail: nothing changed.',
        ].join('\n'),
      },
    }));
  }

  /** A password-reset link; the caller decides who may receive one (an existing, enabled account). */
  async sendPasswordReset(account: Account): Promise<void> {
    await this.#deliver('reset', account, async () => {
      const token = await this.tokens.issue(account.id, 'reset', RESET_TOKEN_TTL_S);
      return {
        token,
        message: {
          to: account.login,
          subject: `${this.#appName}: reset your password`,
          text: [
            `Someone asked to reset the password of ${account.login}. To choose a new one${this.#howToUse('reset', token, 'once, within 30 minutes')}`,
            '',
            'If it was not you, ignore this mail: your password stays as it is.',
          ].join('\n'),
        },
      };
    });
  }

  /** Waits for the mail under way (each bounded by the SMTP timeouts), then closes the transport. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
    this.#mailer.close();
  }

  /**
   * The sentence that hands over the token: a link to KILN_AUTH_LINK_BASE (a page of the front end,
   * given the token and its purpose), or, without one, the API route to POST the token to (a mail
   * link can only GET, and these routes change state, so there is no link to click then).
   */
  #howToUse(purpose: OneTimePurpose, token: string, validity: string): string {
    const base = this.#settings.authLinkBase;
    if (base) return `, open this link (it works ${validity}):\n\n${base}${base.includes('?') ? '&' : '?'}token=${token}&purpose=${purpose}`;
    const origin = (this.#settings.publicUrl || `http://localhost:${this.#settings.port}`).replace(/\/+$/, '');
    const body = purpose === 'reset' ? `{ "token": "${token}", "password": "<new password>" }` : `{ "token": "${token}" }`;
    return `, send this request (it works ${validity}):\n\nPOST ${origin}${this.#settings.apiPrefix}${TOKEN_ROUTES[purpose]}\n${body}`;
  }

  /** Makes and sends one mail; a failure is logged without the token (its message is scrubbed of it) and never thrown. */
  #deliver(kind: string, account: Account, compose: () => Promise<{ token?: string; message: MailMessage }>): Promise<void> {
    const delivery = this.#attempt(kind, account, compose);
    this.#pending.add(delivery);
    return delivery.finally(() => this.#pending.delete(delivery));
  }

  async #attempt(kind: string, account: Account, compose: () => Promise<{ token?: string; message: MailMessage }>): Promise<void> {
    let token: string | undefined;
    try {
      const mail = await compose();
      token = mail.token;
      await this.#mailer.send(mail.message);
      this.#log.info({ mail: kind, accountId: account.id }, 'mail sent');
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      const message = token ? text.replaceAll(token, '[redacted]') : text;
      this.#log.error({ mail: kind, accountId: account.id, err: { message } }, 'could not send mail');
    }
  }
}

export interface AccountMailOptions {
  readonly settings: Settings;
  readonly db: Database;
  readonly log: FastifyBaseLogger;
  readonly dev: boolean;
  readonly appName: string;
  /** Where the line saying the mail flows are off goes; the log's warn by default. */
  readonly notice?: (message: string) => void;
}

/**
 * The account mail, when it can be delivered: an SMTP server is set (or `kiln dev` prints mail), and
 * the accounts' login is an email address. Otherwise the flows that need mail are off, and a line at
 * start says which and why: their routes are not served, and signup works without mail.
 */
export function accountMailFor(resource: Resource, accounts: AccountsModel, options: AccountMailOptions): AccountMailer | undefined {
  const why =
    resource.fieldsByName.get(accounts.login)?.format !== 'email'
      ? `the login field ${resource.name}.${accounts.login} is not an email address`
      : !options.settings.smtpUrl && !options.dev
        ? 'KILN_SMTP_URL is not set'
        : undefined;
  if (why) {
    // With verification required and no mail, only an operator can verify an account: say so now, not at the first refused login.
    const required = accounts.verification === 'required' ? '; verification is required, so only accounts an operator marks verified can sign in' : '';
    const message = `password reset and email verification are off: ${why}${required}`;
    if (options.notice) options.notice(message);
    else options.log.warn(message);
    return undefined;
  }
  const mailer = mailerFor(options.settings, options.log, options.dev);
  if (!mailer) return undefined;
  return new AccountMailer({ mailer, tokens: new OneTimeTokens(options.db), settings: options.settings, log: options.log, appName: options.appName });
}
