/**
 * A model whose `notes` have every lifecycle hook, for the hook tests. What a hook does is chosen by
 * the note's title, so each test drives one behaviour over HTTP; `calls` records what ran, in order.
 */
import { KilnError, registerErrorCode } from '../../src/core/errors.js';
import { defineModel, defineResource, field } from '../../src/model/define.js';
import { compileOrThrow } from '../../src/model/load.js';

export const TITLE_TAKEN = registerErrorCode('TEST_TITLE_TAKEN', { status: 409, title: 'Title already taken' });

/** The pins below declare access rules, so every other resource says it is open to anyone. */
const open = { read: 'public', create: 'public', update: 'public', delete: 'public' } as const;

export const calls: { hook: string; detail?: unknown }[] = [];
/** What afterCreate saw in the database (from outside the write's transaction) when it ran. */
export const seenAfterCommit: unknown[] = [];
/** Set by the test: a query the afterCreate hook runs on the database itself. */
export const probe: { query?: (id: unknown) => Promise<unknown> } = {};

const slugOf = (title: string) =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

export const hooksModel = compileOrThrow(
  'hooks test model',
  defineModel({
    resources: {
      notes: defineResource({
        access: open,
        fields: {
          title: field.string({ minLength: 1, maxLength: 50 }),
          slug: field.string({ readOnly: true, nullable: true, unique: true, maxLength: 60 }),
          body: field.text({ default: '' }),
          mood: field.enum(['calm', 'loud'], { default: 'calm' }),
        },
        hooks: {
          // What these hooks refuse with, for the OpenAPI document.
          errors: [TITLE_TAKEN, 'KILN_FORBIDDEN'],
          async beforeCreate({ input, ctx, tx, ops }) {
            calls.push({ hook: 'beforeCreate', detail: { ...input } });
            if (input.title === 'refuse') throw new KilnError(TITLE_TAKEN, { detail: 'the title "refuse" is taken' });
            if (input.title === 'crash') throw new Error('secret internal failure');
            if (input.title === 'raw duplicate') {
              // The hook's own statement fails in the database: answered like any statement's failure, not as the hook's bug.
              await tx.query(`INSERT INTO "notes" ("title", "slug") VALUES ('one', 'same-slug'), ('two', 'same-slug')`);
            }
            if (input.title === 'rollback') {
              await ops.create(ctx, 'audits', { message: 'written before the refusal' });
              await tx.query(`INSERT INTO "audits" ("message") VALUES ($1)`, ['raw insert before the refusal']);
              throw new KilnError(TITLE_TAKEN, { detail: 'refused after writing' });
            }
            if (input.title === 'bad output') return { ...input, slug: 'x'.repeat(100) };
            if (input.title === 'bad enum') return { ...input, slug: 'bad-enum', mood: 'furious' as 'calm' };
            if (input.title === 'audited') {
              const audit = await ops.create(ctx, 'audits', { message: `note ${input.title}` });
              const seen = await ops.get(ctx, 'audits', audit.id);
              input.body = `audit ${String(seen.id)}`;
            }
            input.slug = slugOf(input.title);
            return undefined;
          },
          async afterCreate({ row, ctx }) {
            calls.push({ hook: 'afterCreate', detail: row.id });
            if (probe.query) seenAfterCommit.push(await probe.query(row.id));
            row.title = 'changed by afterCreate';
            if (row.body === 'fail after' && ctx.requestId) throw new Error('mail server down');
          },
          beforeUpdate({ input, replace }) {
            calls.push({ hook: 'beforeUpdate', detail: { ...input, replace } });
            if (input.title === 'refuse') throw new KilnError(TITLE_TAKEN, { detail: 'no renaming to "refuse"' });
            if (input.title !== undefined) return { ...input, slug: slugOf(input.title) };
            return undefined;
          },
          afterUpdate({ row }) {
            calls.push({ hook: 'afterUpdate', detail: row.id });
          },
          beforeDelete({ input }) {
            calls.push({ hook: 'beforeDelete', detail: input });
            if (String(input.id) === '1') throw new KilnError('KILN_FORBIDDEN', { detail: 'the first note stays' });
          },
          afterDelete({ id }) {
            calls.push({ hook: 'afterDelete', detail: id });
          },
          afterRead({ row }) {
            return { ...row, title: String(row.title).toUpperCase(), secret: 'never sent' };
          },
        },
      }),
      audits: defineResource({ access: open, fields: { message: field.string({ maxLength: 100 }) } }),
      tags: defineResource({ access: open, fields: { name: field.string({ maxLength: 50 }) } }),
      // A closed pin may not be changed by anyone: its before-hooks must never see it.
      pins: defineResource({
        access: { read: 'public', create: 'public', update: 'open == true', delete: 'open == true' },
        fields: { label: field.string({ maxLength: 50 }), open: field.boolean({ default: true }) },
        hooks: {
          beforeUpdate({ input }) {
            calls.push({ hook: 'pins.beforeUpdate', detail: input.id });
          },
          beforeDelete({ input }) {
            calls.push({ hook: 'pins.beforeDelete', detail: input.id });
          },
        },
      }),
    },
  }),
);
