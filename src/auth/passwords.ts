/**
 * Password hashing (argon2id, parallelism 1, costs from KILN_PASSWORD_MEMORY_KIB and
 * KILN_PASSWORD_TIME_COST) and the model's password policy. Verifying against no hash still does one
 * argon2 verification of the same cost, so the time of an answer does not tell whether a login exists.
 */
import { randomBytes } from 'node:crypto';
import { Algorithm, hash, parseOptions, verify } from '@node-rs/argon2';
import type { Settings } from '../config/settings.js';
import type { FieldError } from '../core/errors.js';
import type { AccountsModel } from '../model/ir.js';

export type PasswordPolicy = AccountsModel['password'];

export class Passwords {
  readonly policy: PasswordPolicy;
  readonly #options: { algorithm: Algorithm; memoryCost: number; timeCost: number; parallelism: number };
  /**
   * A hash of a random password with the current costs: what a login without an account is checked
   * against. Made at once, so that even the first such login costs no more than a wrong password.
   */
  readonly #dummy: Promise<string>;

  constructor(settings: Pick<Settings, 'passwordMemoryKib' | 'passwordTimeCost'>, policy: PasswordPolicy) {
    this.policy = policy;
    this.#options = { algorithm: Algorithm.Argon2id, memoryCost: settings.passwordMemoryKib, timeCost: settings.passwordTimeCost, parallelism: 1 };
    this.#dummy = this.hash(randomBytes(32).toString('base64url'));
    // Awaited at the first use; a failure there (never expected) must not be an unhandled rejection meanwhile.
    this.#dummy.catch(() => {});
  }

  /** The PHC string of `password` with the current costs and a fresh salt. */
  hash(password: string): Promise<string> {
    return hash(password, this.#options);
  }

  /**
   * Whether `password` matches `hash`. With no hash (no such account, or one without a password), a
   * dummy hash of the same cost is verified and the answer is false: the work is the same either way.
   */
  async verify(hashed: string | null, password: string): Promise<boolean> {
    if (hashed === null) {
      await verify(await this.#dummy, password).catch(() => false);
      return false;
    }
    try {
      return await verify(hashed, password);
    } catch {
      // A stored value that is not an argon2 hash matches no password.
      return false;
    }
  }

  /** Whether `hashed` was made with other parameters than the current ones (then a successful login rehashes it). */
  needsRehash(hashed: string): boolean {
    try {
      const used = parseOptions(hashed);
      const want = this.#options;
      return (
        used.algorithm !== want.algorithm || used.memoryCost !== want.memoryCost || used.timeCost !== want.timeCost || used.parallelism !== want.parallelism
      );
    } catch {
      return true;
    }
  }

  /**
   * What is wrong with a new password under the model's policy: too short, too long (the maximum bounds
   * the cost of hashing it), or the login itself. Empty when it is acceptable.
   */
  policyErrors(password: unknown, login: string, path = '/password'): FieldError[] {
    const { minLength, maxLength } = this.policy;
    if (typeof password !== 'string') return [{ path, code: 'type', message: 'must be a string' }];
    const length = [...password].length;
    if (length < minLength) {
      return [{ path, code: 'minLength', message: `must be at least ${minLength} characters (this one has ${length})` }];
    }
    if (length > maxLength) {
      return [{ path, code: 'maxLength', message: `must be at most ${maxLength} characters (this one has ${length})` }];
    }
    if (login.trim() !== '' && password.trim().toLowerCase() === login.trim().toLowerCase()) {
      return [{ path, code: 'sameAsLogin', message: 'must not be the same as the login' }];
    }
    return [];
  }
}
