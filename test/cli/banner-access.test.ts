import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { banner } from '../../src/cli/banner.js';
import { resolveSettings } from '../../src/config/settings.js';
import { compileOrThrow } from '../../src/model/load.js';
import type { RunningKiln } from '../../src/start.js';

/** The banner of a server at this address (what `kiln serve` prints once it listens), for a model given here. */
function bannerOf(declaration: Record<string, unknown>): string[] {
  const kiln = { url: 'http://127.0.0.1:3000' } as RunningKiln;
  const settings = { ...resolveSettings({}), dataDir: 'memory' };
  return banner(kiln, compileOrThrow('model', declaration), settings, { model: 'kiln.yaml' }).split('\n');
}

/** The banner's Access entry: its first line and those that follow it, up to the next entry. */
function accessEntry(lines: readonly string[]): string[] {
  const start = lines.findIndex((line) => line.startsWith('  Access    '));
  assert.ok(start >= 0, lines.join('\n'));
  const end = lines.findIndex((line, i) => i > start && !line.startsWith('            '));
  return lines.slice(start, end);
}

describe('the start-up banner: who may do what', () => {
  test('a model with rules: the roles, then the access table, once', () => {
    const lines = bannerOf({
      roles: { editor: {}, admin: { everything: true } },
      resources: {
        tags: { access: { read: 'public', create: ['editor'] }, fields: { name: { type: 'string' } } },
      },
    });
    assert.deepEqual(accessEntry(lines), [
      '  Access    roles editor, admin (everything)',
      '            operation    anonymous  authenticated  editor  admin  rule',
      '            tags.list    all        all            all     all    public',
      '            tags.read    all        all            all     all    public',
      '            tags.create  —          —              all     all    [editor]',
      '            tags.update  —          —              —       all    (no rule)',
      '            tags.delete  —          —              —       all    (no rule)',
      '            all: every record · rows: the records its rule matches · —: refused · (no rule): refused to all but roles granted everything',
    ]);
    assert.equal(lines.at(-1), 'Press Ctrl+C to stop.');
    assert.equal(lines.filter((line) => line.includes('tags.list')).length, 1, 'the table is printed once');
  });

  test('roles that inherit say so; a model whose rules declare no role says that too', () => {
    const inherited = bannerOf({
      roles: { author: {}, editor: { inherits: 'author' } },
      resources: { notes: { access: { read: ['author'] }, fields: { title: { type: 'string' } } } },
    });
    assert.equal(accessEntry(inherited)[0], '  Access    roles author, editor (inherits author)');
    assert.ok(accessEntry(inherited).includes('            notes.read    —          —              all     all     [author]'));
    const noRoles = bannerOf({ resources: { notes: { access: { read: 'authenticated' }, fields: { title: { type: 'string' } } } } });
    assert.equal(accessEntry(noRoles)[0], '  Access    no roles declared');
  });

  test('a model without rules: a loud line that everyone may do everything, and where to read how to limit it', () => {
    const lines = bannerOf({ resources: { notes: { fields: { title: { type: 'string' } } } } });
    assert.deepEqual(accessEntry(lines), [
      '  Access    OPEN: the model declares no access rules, so anyone, anonymous callers included, may list, read, create, update and delete every resource',
      '            declare roles and rules to limit it: see docs/reference/access-rules.md',
    ]);
  });
});
