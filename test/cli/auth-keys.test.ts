/**
 * `kiln auth keygen`: prints a private key set Kiln loads, adds a key first in an existing set
 * (rotation: the new key signs, the old ones still verify), and refuses bad arguments (exit 2) and
 * sets it cannot extend (exit 1) with one line saying why, leaving the file as it was.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { AccessTokens } from '../../src/auth/jwt.js';
import { authUsage, keygenUsage } from '../../src/cli/auth-keys.js';
import { generalUsage } from '../../src/cli/usage.js';
import { resolveSettings } from '../../src/config/settings.js';
import { runCli } from '../helpers/run-cli.js';

const tokensOf = (authJwtKeys: string) => AccessTokens.fromSettings({ ...resolveSettings({}), authJwtKeys });

describe('kiln auth keygen', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-keygen-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('prints a private key set of each algorithm that Kiln loads and signs with', async () => {
    for (const alg of ['ES256', 'RS256', 'EdDSA']) {
      const { code, out, err } = await runCli(['auth', 'keygen', '--alg', alg, '--kid', `key-${alg}`]);
      assert.deepEqual([code, err], [0, ''], alg);
      const set = JSON.parse(out);
      assert.equal(set.keys.length, 1);
      assert.deepEqual([set.keys[0].kid, set.keys[0].alg, set.keys[0].use, typeof set.keys[0].d], [`key-${alg}`, alg, 'sig', 'string'], alg);
      const file = join(dir, `${alg}.json`);
      writeFileSync(file, out);
      const { accessToken } = await (await tokensOf(file)).issue({ id: '1', roles: [] });
      assert.deepEqual(decodeProtectedHeader(accessToken), { alg, typ: 'at+jwt', kid: `key-${alg}` });
    }
    const rsa = JSON.parse((await runCli(['auth', 'keygen', '--alg', 'RS256'])).out).keys[0];
    assert.equal(Buffer.from(rsa.n, 'base64url').length * 8, 3072, 'RSA keys are 3072 bits');
  });

  test('the default kid is the date and a random suffix', async () => {
    const kids: string[] = [];
    // One at a time: runCli swaps the console.
    for (let i = 0; i < 2; i++) kids.push(JSON.parse((await runCli(['auth', 'keygen', '--alg', 'EdDSA'])).out).keys[0].kid);
    for (const kid of kids) assert.match(kid, new RegExp(`^${new Date().toISOString().slice(0, 10)}-[0-9a-f]{4}$`));
    assert.notEqual(kids[0], kids[1]);
  });

  test('--add-to puts the new key first: it signs, and tokens of the old key still verify', async () => {
    const file = join(dir, 'rotate.json');
    writeFileSync(file, (await runCli(['auth', 'keygen', '--alg', 'ES256', '--kid', 'old'])).out);
    const oldToken = (await (await tokensOf(file)).issue({ id: '5', roles: ['editor'] })).accessToken;
    const result = await runCli(['auth', 'keygen', '--alg', 'EdDSA', '--kid', 'new', '--add-to', file]);
    assert.deepEqual(result, {
      code: 0,
      out: `kiln auth keygen: added EdDSA key "new" first in ${file}. Restart Kiln: it signs new tokens with it, and the other keys verify the tokens they signed until you remove them (after KILN_AUTH_ACCESS_TTL_S).`,
      err: '',
    });
    assert.deepEqual(
      JSON.parse(readFileSync(file, 'utf8')).keys.map((k: { kid: string }) => k.kid),
      ['new', 'old'],
    );
    assert.equal(statSync(file).mode & 0o777, 0o600, 'the key set is readable only by its owner');
    assert.doesNotMatch(result.out, /"d"/, 'the private key is not printed');
    const rotated = await tokensOf(file);
    assert.equal(decodeProtectedHeader((await rotated.issue({ id: '5', roles: [] })).accessToken).kid, 'new');
    assert.deepEqual(await rotated.verify(oldToken), { sub: '5', roles: ['editor'], exp: (await rotated.verify(oldToken)).exp });
  });

  test('a set it cannot extend exits 1 with why, and the file is left as it was', async () => {
    const file = join(dir, 'extend.json');
    writeFileSync(file, (await runCli(['auth', 'keygen', '--alg', 'ES256', '--kid', 'taken'])).out);
    const before = readFileSync(file, 'utf8');
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"s","alg":"HS256"}]}');
    const missing = join(dir, 'missing.json');
    const cases: [string[], string][] = [
      [['--kid', 'taken', '--add-to', file], `kiln auth keygen: ${file} already has a key "taken": choose another --kid`],
      [
        ['--add-to', broken],
        'kiln auth keygen: KILN_AUTH_JWT_KEYS: key 0 (s): "alg" must be one of RS256, ES256, EdDSA, not "HS256" (a shared secret belongs in KILN_AUTH_JWT_SECRET, never in a published key set)',
      ],
      [['--add-to', missing], `kiln auth keygen: KILN_AUTH_JWT_KEYS: cannot read ${missing}: ENOENT: no such file or directory, open '${missing}'`],
    ];
    for (const [args, line] of cases) assert.deepEqual(await runCli(['auth', 'keygen', '--alg', 'ES256', ...args]), { code: 1, out: '', err: line });
    assert.equal(readFileSync(file, 'utf8'), before);
  });

  test('bad arguments exit 2 with one line, then the usage; help and the bare command print the usage', async () => {
    const usageError = (line: string) => ({ code: 2, out: '', err: `${line}\n\n${keygenUsage()}` });
    assert.deepEqual(await runCli(['auth', 'keygen']), usageError('kiln auth keygen: --alg is required: RS256, ES256, EdDSA'));
    assert.deepEqual(
      await runCli(['auth', 'keygen', '--alg', 'HS256']),
      usageError('kiln auth keygen: --alg must be one of them, not "HS256": RS256, ES256, EdDSA'),
    );
    assert.deepEqual(
      await runCli(['auth', 'keygen', '--alg', 'ES256', '--kid', '../../etc/passwd']),
      usageError('kiln auth keygen: --kid must be 1 to 64 letters, digits, ".", "_" or "-"'),
    );
    assert.deepEqual(await runCli(['auth', 'keygen', '--alg', 'ES256', '--nope']), usageError("kiln auth keygen: Unknown option '--nope'"));
    assert.deepEqual(await runCli(['auth', 'keygen', 'extra']), usageError("kiln auth keygen: Unexpected argument 'extra'"));
    assert.deepEqual(await runCli(['auth', 'rotate']), { code: 2, out: '', err: `kiln auth: unknown command "rotate"\n\n${authUsage()}` });
    assert.deepEqual(await runCli(['auth']), { code: 1, out: authUsage(), err: '' });
    assert.deepEqual(await runCli(['auth', '--help']), { code: 0, out: authUsage(), err: '' });
    assert.deepEqual(await runCli(['auth', 'keygen', '-h']), { code: 0, out: keygenUsage(), err: '' });
    assert.match(generalUsage(), /\n {2}auth +Manage the keys of authentication/);
    assert.match(keygenUsage(), /--alg ALG +RS256, ES256, EdDSA \(required\)/);
  });
});
