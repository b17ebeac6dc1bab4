/**
 * Where Kiln's mail goes: an SMTP server (KILN_SMTP_URL, through nodemailer), or, under `kiln dev`
 * without one, the log. A mailer only delivers; what the messages say is account-mail.ts's concern.
 */
import type { FastifyBaseLogger } from 'fastify';
import { createTransport, type Mail } from 'nodemailer';
import type { Settings } from '../config/settings.js';

/** One plain-text message to one recipient. */
export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

export interface Mailer {
  /** Delivers the message; rejects when the server refuses it or cannot be reached. */
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/** The first line of a mail printed to the log. */
export const DEV_MAIL_HEADLINE = 'mail printed here, not sent (KILN_SMTP_URL is not set):';

/** How long delivery may take before it counts as failed: a dead server must not hold mail work forever. */
const SMTP_TIMEOUT_MS = 10_000;

/** Mail through the SMTP server of KILN_SMTP_URL, From KILN_MAIL_FROM. */
export class SmtpMailer implements Mailer {
  readonly #transport: Mail;
  readonly #from: string;

  constructor(url: string, from: string) {
    this.#transport = createTransport({
      url,
      connectionTimeout: SMTP_TIMEOUT_MS,
      greetingTimeout: SMTP_TIMEOUT_MS,
      socketTimeout: SMTP_TIMEOUT_MS,
    });
    this.#from = from;
  }

  async send(message: MailMessage): Promise<void> {
    await this.#transport.sendMail({ from: this.#from, to: message.to, subject: message.subject, text: message.text });
  }

  close(): void {
    this.#transport.close();
  }
}

/**
 * `kiln dev` without an SMTP server: the whole message, link included, goes to the log at info level.
 * The log is then the developer's own terminal on their own machine, and reading the link there is
 * how they try the reset and verification flows; `kiln serve` never uses this mailer.
 */
export class LogMailer implements Mailer {
  readonly #log: FastifyBaseLogger;
  readonly #from: string;

  constructor(log: FastifyBaseLogger, from: string) {
    this.#log = log;
    this.#from = from;
  }

  async send(message: MailMessage): Promise<void> {
    // The message itself is the log message, so the pretty log of `kiln dev` shows it as a mail, on lines of its own.
    const printed = [`From: ${this.#from}`, `To: ${message.to}`, `Subject: ${message.subject}`, '', message.text].join('\n');
    this.#log.info({ mail: { from: this.#from, to: message.to, subject: message.subject } }, `${DEV_MAIL_HEADLINE}\n${printed}`);
  }

  close(): void {}
}

/** The mailer the settings call for; undefined when mail cannot be delivered (no SMTP server, not `kiln dev`). */
export function mailerFor(settings: Settings, log: FastifyBaseLogger, dev: boolean): Mailer | undefined {
  if (settings.smtpUrl) return new SmtpMailer(settings.smtpUrl, settings.mailFrom);
  return dev ? new LogMailer(log, settings.mailFrom) : undefined;
}
