/**
 * `kiln auth keygen`: a new private signing key for KILN_AUTH_JWT_KEYS, as a JSON Web Key Set.
 * Without --add-to the set (of the one key) goes to stdout; with --add-to FILE the key is put FIRST
 * in an existing set, which is how keys rotate: after a restart the new key signs new tokens while
 * the old ones still verify the tokens they signed, until they are removed from the file (wait at
 * least KILN_AUTH_ACCESS_TTL_S after the restart). The file is rewritten whole, readable only by
 * its owner, and only after the new set loads exactly as Kiln will load it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { ASYMMETRIC_ALGORITHMS, type AsymmetricAlgorithm, loadKeySet } from '../auth/jwt-keys.js';
import { StartupError } from '../config/startup-error.js';

export const AUTH_COMMANDS = {
  keygen: 'Make a private signing key for KILN_AUTH_JWT_KEYS, or add one first in a key set (rotation)',
} as const;

const KEYGEN_OPTIONS = `  --alg ALG               ${ASYMMETRIC_ALGORITHMS.join(', ')} (required)
  --kid ID                id of the key, named by the tokens it signs; default the date and a random suffix
  --add-to FILE           put the key first in this key set file (it signs new tokens; the others keep verifying)
  -h, --help              show this help`;

export function authUsage(): string {
  const lines = Object.entries(AUTH_COMMANDS).map(([name, text]) => `  ${name}  ${text}`);
  return `Usage: kiln auth <command> [options]\n\nManage the keys of authentication.\n\nCommands:\n${lines.join('\n')}\n\nRun "kiln auth <command> --help" for the options of a command.`;
}

export function keygenUsage(): string {
  return `Usage: kiln auth keygen --alg ALG [options]\n\n${AUTH_COMMANDS.keygen}.\nWithout --add-to, the key set is printed: save it to a file readable only by Kiln, and point KILN_AUTH_JWT_KEYS at it.\n\nOptions:\n${KEYGEN_OPTIONS}`;
}

/** `kiln auth …`: returns the exit code (2 for a usage error, 1 for a failure, with one line saying why). */
export async function runAuth(args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(authUsage());
    return sub === undefined ? 1 : 0;
  }
  if (sub !== 'keygen') {
    console.error(`kiln auth: unknown command "${sub}"\n\n${authUsage()}`);
    return 2;
  }
  let values: { alg?: string; kid?: string; 'add-to'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...rest],
      options: { alg: { type: 'string' }, kid: { type: 'string' }, 'add-to': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    const first = ((error as Error).message.split('\n')[0] ?? '').split('. ')[0]?.replace(/\.$/, '');
    console.error(`kiln auth keygen: ${first}\n\n${keygenUsage()}`);
    return 2;
  }
  if (values.help) {
    console.log(keygenUsage());
    return 0;
  }
  const alg = values.alg as AsymmetricAlgorithm | undefined;
  if (alg === undefined || !ASYMMETRIC_ALGORITHMS.includes(alg)) {
    const given = values.alg === undefined ? 'is required' : `must be one of them, not "${values.alg}"`;
    console.error(`kiln auth keygen: --alg ${given}: ${ASYMMETRIC_ALGORITHMS.join(', ')}\n\n${keygenUsage()}`);
    return 2;
  }
  if (values.kid !== undefined && !/^[\w.-]{1,64}$/.test(values.kid)) {
    console.error(`kiln auth keygen: --kid must be 1 to 64 letters, digits, ".", "_" or "-"\n\n${keygenUsage()}`);
    return 2;
  }
  try {
    const key = await newPrivateJwk(alg, values.kid ?? defaultKid());
    if (values['add-to'] === undefined) {
      console.log(JSON.stringify({ keys: [key] }, null, 2));
      return 0;
    }
    await addFirst(values['add-to'], key);
    console.log(
      `kiln auth keygen: added ${key.alg} key "${key.kid}" first in ${values['add-to']}. Restart Kiln: it signs new tokens with it, and the other keys verify the tokens they signed until you remove them (after KILN_AUTH_ACCESS_TTL_S).`,
    );
    return 0;
  } catch (error) {
    if (!(error instanceof StartupError)) throw error;
    console.error(`kiln auth keygen: ${error.message}`);
    return 1;
  }
}

async function newPrivateJwk(alg: AsymmetricAlgorithm, kid: string): Promise<JWK> {
  // RSA: 3072 bits, NIST's size for use past 2030; jose's default is 2048.
  const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' && { modulusLength: 3072 }) });
  return { kid, alg, use: 'sig', ...(await exportJWK(privateKey)) };
}

/** E.g. 2026-12-06-3f9a: sorts by age, and two keys made the same day still differ. */
function defaultKid(): string {
  return `${new Date().toISOString().slice(0, 10)}-${randomBytes(2).toString('hex')}`;
}

/** Rewrites the key set with `key` first, after checking the old set loads and the kid is new. */
async function addFirst(file: string, key: JWK): Promise<void> {
  const existing = await loadKeySet(file);
  if (existing.some((k) => k.kid === key.kid)) throw new StartupError(`${file} already has a key "${key.kid}": choose another --kid`);
  const { keys } = JSON.parse(readFileSync(file, 'utf8')) as { keys: JWK[] };
  const next = `${JSON.stringify({ keys: [key, ...keys] }, null, 2)}\n`;
  const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, next, { mode: 0o600 });
  try {
    await loadKeySet(temporary);
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
