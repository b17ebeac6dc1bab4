import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, resolveSettings, SETTINGS } from '../../src/config/settings.js';

/** The message resolveSettings throws, split into its problem lines. */
function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    const [first, ...lines] = error.message.split('\n');
    assert.equal(first, 'invalid configuration:');
    return lines.map((l) => l.replace(/^ {2}- /, ''));
  }
  assert.fail('expected a ConfigError');
}

describe('resolveSettings', () => {
  test('with an empty environment every setting has its declared default', () => {
    const settings = resolveSettings({});
    for (const [name, spec] of Object.entries(SETTINGS)) assert.deepEqual(settings[name as keyof typeof settings], spec.default, name);
    assert.equal(settings.port, 3000);
    assert.equal(settings.apiPrefix, '/v1');
  });

  test('parses every kind from the environment', () => {
    const settings = resolveSettings({
      PORT: '8080',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgres://u@db:5432/app',
      KILN_DB_SCHEMA: 'app_data',
      KILN_API_PREFIX: '/v2',
      KILN_BODY_LIMIT: ' 2048 ',
      KILN_CORS_ORIGINS: ' https://a.example , https://b.example,, ',
      KILN_CORS_CREDENTIALS: 'yes',
      KILN_DOCS: 'off',
      KILN_LOG_LEVEL: 'warn',
      KILN_SHUTDOWN_TIMEOUT_MS: '0',
    });
    assert.deepEqual(
      [
        settings.port,
        settings.host,
        settings.databaseUrl,
        settings.dbSchema,
        settings.apiPrefix,
        settings.bodyLimit,
        settings.corsOrigins,
        settings.corsCredentials,
        settings.docs,
        settings.logLevel,
        settings.shutdownTimeoutMs,
      ],
      [8080, '127.0.0.1', 'postgres://u@db:5432/app', 'app_data', '/v2', 2048, ['https://a.example', 'https://b.example'], true, false, 'warn', 0],
    );
  });

  test('booleans accept true/1/yes/on and false/0/no/off in any case', () => {
    for (const raw of ['true', '1', 'yes', 'on', 'TRUE', 'On']) assert.equal(resolveSettings({ KILN_DOCS: raw }).docs, true, raw);
    for (const raw of ['false', '0', 'no', 'off', 'False', 'NO']) assert.equal(resolveSettings({ KILN_DOCS: raw }).docs, false, raw);
  });

  test('an empty variable counts as unset', () => {
    assert.equal(resolveSettings({ PORT: '', KILN_LOG_LEVEL: '' }).port, 3000);
  });

  test('one error names every invalid variable, each with why', () => {
    const lines = problems(() =>
      resolveSettings({
        PORT: 'abc',
        KILN_LOG_LEVEL: 'loud',
        KILN_DB_SCHEMA: 'bad"schema',
        KILN_DB_POOL_MAX: '0',
        KILN_PAGE_MAX_LIMIT: '20000',
        KILN_DOCS: 'maybe',
        KILN_BODY_LIMIT: '1.5',
        KILN_API_PREFIX: 'v1',
      }),
    );
    assert.deepEqual(lines, [
      'PORT: "abc" is not a whole number',
      'KILN_DB_SCHEMA: "bad"schema" does not match /^[a-z_][a-z0-9_]{0,62}$/',
      'KILN_DB_POOL_MAX: 0 is below the minimum 1',
      'KILN_API_PREFIX: "v1" does not match /^\\/[a-z0-9][a-z0-9-]*$/',
      'KILN_PAGE_MAX_LIMIT: 20000 is above the maximum 10000',
      'KILN_BODY_LIMIT: "1.5" is not a whole number',
      'KILN_LOG_LEVEL: "loud" is not one of fatal, error, warn, info, debug, trace, silent',
      'KILN_DOCS: "maybe" is not a boolean (use true or false)',
    ]);
  });

  test('ranges are enforced at both ends', () => {
    assert.deepEqual(
      problems(() => resolveSettings({ PORT: '70000' })),
      ['PORT: 70000 is above the maximum 65535'],
    );
    assert.deepEqual(
      problems(() => resolveSettings({ PORT: '-1' })),
      ['PORT: -1 is below the minimum 0'],
    );
    assert.deepEqual(
      problems(() => resolveSettings({ KILN_MAX_HEADER_SIZE: '99999999999999999999' })),
      ['KILN_MAX_HEADER_SIZE: expected a whole number'],
    );
    assert.equal(resolveSettings({ PORT: '0' }).port, 0);
    assert.equal(resolveSettings({ PORT: '65535' }).port, 65535);
  });

  test('a schema name with a quote or upper case is refused, since it is written into SQL', () => {
    for (const bad of ['a"b', "a'b", 'Public', 'a-b', 'a;drop', '1abc', 'x'.repeat(64)]) {
      assert.equal(problems(() => resolveSettings({ KILN_DB_SCHEMA: bad })).length, 1, bad);
    }
  });

  test('a default page limit above the maximum is refused, naming both', () => {
    assert.deepEqual(
      problems(() => resolveSettings({ KILN_PAGE_DEFAULT_LIMIT: '50', KILN_PAGE_MAX_LIMIT: '10' })),
      ['KILN_PAGE_DEFAULT_LIMIT (50) is above KILN_PAGE_MAX_LIMIT (10)'],
    );
    assert.deepEqual(
      problems(() => resolveSettings({ KILN_PAGE_MAX_LIMIT: '10' })),
      ['KILN_PAGE_DEFAULT_LIMIT (20) is above KILN_PAGE_MAX_LIMIT (10)'],
      'the default of one against the value of the other counts too',
    );
  });
});

describe('resolveSettings with a config file object', () => {
  test('the file sets values and the environment overrides them', () => {
    const file = { port: 4000, logLevel: 'debug', corsOrigins: ['https://file.example'], docs: false, apiPrefix: '/api' };
    const fromFile = resolveSettings({}, file);
    assert.deepEqual(
      [fromFile.port, fromFile.logLevel, fromFile.corsOrigins, fromFile.docs, fromFile.apiPrefix],
      [4000, 'debug', ['https://file.example'], false, '/api'],
    );
    const both = resolveSettings({ PORT: '5000', KILN_CORS_ORIGINS: 'https://env.example', KILN_DOCS: 'true' }, file);
    assert.deepEqual([both.port, both.logLevel, both.corsOrigins, both.docs], [5000, 'debug', ['https://env.example'], true]);
  });

  test('explicit overrides (the --port flag) win over the environment and the file', () => {
    assert.equal(resolveSettings({ PORT: '5000' }, { port: 4000 }, { port: 6000 }).port, 6000);
  });

  test('an unknown key is refused, listing the known ones', () => {
    const [line] = problems(() => resolveSettings({}, { prot: 4000 }));
    assert.match(line ?? '', /^config file: unknown setting "prot" \(known: host, port, databaseUrl, /);
  });

  test('values of the wrong kind are refused, every one of them', () => {
    assert.deepEqual(
      problems(() =>
        resolveSettings({}, { port: '4000', docs: 'yes', corsOrigins: 'https://a.example', logLevel: 'loud', bodyLimit: 1.5, corsCredentials: 1 }),
      ),
      [
        'config file "port": expected a whole number',
        'config file "bodyLimit": expected a whole number',
        'config file "corsOrigins": expected a list of strings',
        'config file "corsCredentials": expected true or false',
        'config file "logLevel": "loud" is not one of fatal, error, warn, info, debug, trace, silent',
        'config file "docs": expected true or false',
      ],
    );
  });

  test('a bad file value and a bad environment value are reported together', () => {
    assert.deepEqual(
      problems(() => resolveSettings({ PORT: 'x' }, { nope: 1, port: -5 })),
      [
        'config file: unknown setting "nope" (known: ' + Object.keys(SETTINGS).join(', ') + ')',
        'config file "port": -5 is below the minimum 0',
        'PORT: "x" is not a whole number',
      ],
    );
  });
});
