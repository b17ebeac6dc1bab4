import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { MigrateError } from '../../src/migrate/errors.js';
import { DestructiveStepsError } from '../../src/migrate/generate.js';
import type { Asker } from '../../src/migrate/renames.js';
import { generate, rejection, tempDir } from './helpers.js';

const notes = (fields: object) => ({ resources: { notes: { fields } } });
const v1 = notes({ title: { type: 'text' }, summary: { type: 'text', nullable: true } });

/** An asker that records every question and gives the next scripted answer. */
function scripted(answers: (string | boolean)[]): Asker & { asked: string[] } {
  const asked: string[] = [];
  const next = (q: string) => {
    asked.push(q);
    if (answers.length === 0) assert.fail(`unexpected question: ${q}`);
    return answers.shift() as string | boolean;
  };
  return {
    asked,
    confirm: async (q) => next(q) as boolean,
    text: async (q) => next(q) as string,
  };
}

describe('generate asks at a terminal what flags would otherwise say', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(async () => {
    tmp = tempDir();
    assert.ok((await generate(v1, tmp.dir)).written);
  });
  afterEach(() => tmp.remove());

  test('a new required field without a default: the value for existing rows is asked and backfills them', async () => {
    const ask = scripted(['lower(title)']);
    const result = await generate(notes({ title: { type: 'text' }, summary: { type: 'text', nullable: true }, slug: { type: 'text' } }), tmp.dir, { ask });
    assert.deepEqual(ask.asked, [
      'notes.slug is a new required field without a default: value for the existing rows of notes (SQL expression, empty to cancel):',
    ]);
    assert.ok(result.written);
    assert.deepEqual(
      result.plan.steps.map((s) => [s.summary, s.destructive]),
      [['add field notes.slug (existing rows: lower(title))', undefined]],
    );
    assert.match(result.up, /UPDATE "notes" SET "slug" = lower\(title\);/);
  });

  test('a field that becomes required: the value for rows holding NULL is asked', async () => {
    const ask = scripted(["''"]);
    const result = await generate(notes({ title: { type: 'text' }, summary: { type: 'text' } }), tmp.dir, { ask });
    assert.deepEqual(ask.asked, ['notes.summary becomes required: value for the rows of notes that hold NULL in it (SQL expression, empty to cancel):']);
    assert.ok(result.written);
    assert.deepEqual(
      result.plan.steps.map((s) => s.summary),
      ["alter field notes.summary: NOT NULL (rows holding NULL get '')"],
    );
  });

  test('an empty answer cancels, and nothing is written', async () => {
    const ask = scripted(['']);
    const error = await rejection(() =>
      generate(notes({ title: { type: 'text' }, summary: { type: 'text', nullable: true }, slug: { type: 'text' } }), tmp.dir, { ask }),
    );
    assert.ok(error instanceof MigrateError);
    assert.equal(error.message, 'no value given for notes.slug; nothing was written');
    assert.equal(readdirSync(tmp.dir).length, 1);
  });

  test('destructive steps are confirmed: yes writes the migration, anything else writes nothing', async () => {
    const question =
      'The model change has destructive steps:\n  - drop field notes.summary: drops column notes.summary and its data\nWrite the migration with them?';
    const dropped = notes({ title: { type: 'text' } });
    const no = scripted([false]);
    const declined = await rejection(() => generate(dropped, tmp.dir, { ask: no }));
    assert.deepEqual(no.asked, [question]);
    assert.equal(declined.message, 'the destructive steps were declined; nothing was written');
    assert.equal(readdirSync(tmp.dir).length, 1);
    const yes = scripted([true]);
    const result = await generate(dropped, tmp.dir, { ask: yes });
    assert.deepEqual(yes.asked, [question]);
    assert.ok(result.written);
    assert.ok(existsSync(join(result.folder, 'up.sql')));
  });

  test('without a terminal the same change stops with the flags to pass', async () => {
    const error = await rejection(() =>
      generate(notes({ title: { type: 'text' }, summary: { type: 'text', nullable: true }, slug: { type: 'text' } }), tmp.dir),
    );
    assert.ok(error instanceof DestructiveStepsError);
    assert.equal(
      error.message,
      'the model change has destructive steps; nothing was written:\n' +
        '  - add field notes.slug: fails if notes has rows: notes.slug is NOT NULL without a default; give the field a default or pass --backfill notes.slug=<SQL expression>\n' +
        'Review them, then run again with --allow-destructive to generate the migration (each step is marked in up.sql).',
    );
  });
});
