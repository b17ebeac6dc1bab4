/**
 * Hooks and routes in a model declaration: checked apart from the model's data, every mistake a
 * ModelError naming the entry and the fix; typed from the fields; never part of the data the
 * migrations snapshot. And the app's own error codes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { KilnError, registerErrorCode } from '../../src/core/errors.js';
import { compileModel } from '../../src/model/compile.js';
import { defineModel, defineResource, field } from '../../src/model/define.js';
import { compileOrThrow, loadModel } from '../../src/model/load.js';
import { modelShapes } from '../../src/sql/ddl.js';

const problemsOf = (declaration: unknown) => {
  const result = compileModel(declaration);
  assert.equal(result.ok, false);
  return result.ok ? [] : result.problems;
};

describe('hooks and routes in the declaration', () => {
  test('an unknown hook name, a hook that is not a function, and hooks that are not an object', () => {
    assert.deepEqual(
      problemsOf({
        resources: {
          posts: { fields: { title: { type: 'string' } }, hooks: { beforeCreat() {}, afterRead: 'upper' } },
          tags: { fields: { name: { type: 'string' } }, hooks: [] },
        },
      }),
      [
        {
          path: 'resources.posts.hooks.beforeCreat',
          message: 'unknown hook "beforeCreat"',
          hint: 'did you mean "beforeCreate"? hooks are: beforeCreate, afterCreate, beforeUpdate, afterUpdate, beforeDelete, afterDelete, afterRead',
        },
        {
          path: 'resources.posts.hooks.afterRead',
          message: 'the hook "afterRead" is not a function',
          hint: 'write it as a function: afterRead({ input, ctx }) { … }',
        },
        { path: 'resources.tags.hooks', message: 'hooks must be an object of functions', hint: 'hooks: { beforeCreate({ input }) { … } }' },
      ],
    );
  });

  test('the codes hooks declare must be a list of registered codes', () => {
    assert.deepEqual(
      problemsOf({
        resources: {
          posts: { fields: { title: { type: 'string' } }, hooks: { errors: ['KILN_FORBIDDEN', 'SHOP_NEVER_REGISTERED', 42], beforeCreate() {} } },
          tags: { fields: { name: { type: 'string' } }, hooks: { errors: 'KILN_FORBIDDEN' } },
        },
      }),
      [
        {
          path: 'resources.posts.hooks.errors.1',
          message: '"SHOP_NEVER_REGISTERED" is not a registered error code',
          hint: 'use a KILN_ code, or register yours with registerErrorCode before the model loads',
        },
        {
          path: 'resources.posts.hooks.errors.2',
          message: '42 is not a registered error code',
          hint: 'use a KILN_ code, or register yours with registerErrorCode before the model loads',
        },
        { path: 'resources.tags.hooks.errors', message: 'expected a list of error codes', hint: "e.g. errors: ['KILN_NOT_FOUND']" },
      ],
    );
  });

  test('a route declared in the model on a generated route is refused when the model loads', () => {
    const problems = problemsOf({
      resources: { posts: { fields: { title: { type: 'string' } } } },
      routes: [{ method: 'POST', path: '/posts/bulk', status: 204, handler() {} }],
    });
    assert.deepEqual(problems, [
      {
        path: 'routes.0',
        message: 'POST /posts/bulk is already served by the generated route "bulk create" of posts',
        hint: 'choose another path or method for this route',
      },
    ]);
  });

  test('hooks and routes stay out of the model data: the tables are the same with and without them', () => {
    const plain = { resources: { posts: { fields: { title: { type: 'string' as const } } } } };
    const withCode = {
      resources: { posts: { ...plain.resources.posts, hooks: { beforeCreate() {} } } },
      routes: [{ method: 'GET' as const, path: '/x', response: { type: 'object' }, handler() {} }],
    };
    const a = compileOrThrow('plain', plain);
    const b = compileOrThrow('with code', withCode);
    assert.deepEqual(modelShapes(b), modelShapes(a));
    assert.equal(a.extensions, undefined);
    assert.deepEqual([...(b.extensions?.hooks.keys() ?? [])], ['posts']);
    assert.equal(b.extensions?.routes.length, 1);
    assert.ok(!Object.isFrozen(withCode.routes[0]), 'the caller’s route object is copied, not frozen');
  });

  test('an extensions module that does not exist, or exports the wrong shape', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-ext-'));
    const yaml = (ext: string) => {
      const file = join(dir, `model-${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(file, `extensions: ${ext}\nresources:\n  posts:\n    fields:\n      title: { type: string }\n`);
      return file;
    };
    await assert.rejects(loadModel(yaml('./missing.ts')), {
      name: 'ModelError',
      message: /extensions: the module "\.\/missing\.ts" the file does not exist\n {4}fix: the path is relative to the model file; check it/,
    });
    writeFileSync(join(dir, 'number.ts'), 'export default 42;\n');
    await assert.rejects(loadModel(yaml('./number.ts')), { message: /extensions: the default export of "\.\/number\.ts" is not an object/ });
    writeFileSync(join(dir, 'shape.ts'), 'export default { hook: {}, hooks: { postz: {} } };\n');
    await assert.rejects(loadModel(yaml('./shape.ts')), (error: Error) => {
      assert.match(error.message, /extensions\.hook: unknown key "hook" in the extensions module's export\n {4}fix: export only \{ hooks, routes \}/);
      assert.match(error.message, /extensions\.hooks\.postz: "postz" is not a resource of this model\n {4}fix: use one of: posts/);
      return true;
    });
    writeFileSync(join(dir, 'good.ts'), 'export default { hooks: { posts: { beforeCreate() {} } } };\n');
    const model = await loadModel(yaml('./good.ts'));
    assert.deepEqual([...(model.extensions?.hooks.keys() ?? [])], ['posts']);
  });
});

describe('hook types', () => {
  test('a hook’s input and row are typed from the resource’s fields', () => {
    // The `@ts-expect-error` lines are the test: the typecheck fails if one stops being an error.
    const model = defineModel({
      resources: {
        users: defineResource({ fields: { name: field.string() } }),
        posts: defineResource({
          fields: {
            title: field.string({ maxLength: 10 }),
            body: field.text({ default: '' }),
            views: field.integer({ nullable: true }),
            status: field.enum(['draft', 'published'], { default: 'draft' }),
            author: field.belongsTo('users'),
          },
          hooks: {
            beforeCreate({ input }) {
              const title: string = input.title;
              const author: number | string = input.authorId;
              const status: 'draft' | 'published' | undefined = input.status;
              // @ts-expect-error the title is a string
              const wrong: number = input.title;
              // @ts-expect-error body has a default, so it may be absent
              const body: string = input.body;
              // @ts-expect-error views is nullable
              const views: number | undefined = input.views;
              // @ts-expect-error no such field
              input.titel = 'x';
              void [title, author, status, wrong, body, views];
            },
            afterRead({ row }) {
              // @ts-expect-error a record has no such field
              void row.nope;
              // @ts-expect-error a sparse fieldset (?fields=) may leave any field out
              const sure: string = row.title;
              // @ts-expect-error the title is a string, not a number
              const wrongTitle: number | undefined = row.title;
              void [sure, wrongTitle];
              return { ...row, title: row.title?.toUpperCase() };
            },
          },
        }),
      },
    });
    assert.equal(typeof model.resources.posts.hooks?.beforeCreate, 'function');
  });
});

describe('registerErrorCode', () => {
  test('an app code is answered like a built-in one', () => {
    const code = registerErrorCode('SHOP_OUT_OF_STOCK', { status: 409, title: 'Out of stock' });
    const error = new KilnError(code, { detail: 'only 2 left' });
    assert.deepEqual([error.code, error.status, error.title, error.detail], ['SHOP_OUT_OF_STOCK', 409, 'Out of stock', 'only 2 left']);
  });

  test('a bad code, a Kiln code, a status that is not an error, an empty title, an unknown code', () => {
    assert.throws(() => registerErrorCode('outOfStock', { status: 409, title: 'x' }), {
      message: 'error code "outOfStock": use UPPER_SNAKE_CASE with a prefix of your own, e.g. BLOG_ALREADY_PUBLISHED',
    });
    assert.throws(() => registerErrorCode('KILN_MINE', { status: 409, title: 'x' }), {
      message: 'error code "KILN_MINE": codes starting with KILN_ are Kiln\'s own; use a prefix of your own',
    });
    assert.throws(() => registerErrorCode('SHOP_OK', { status: 200, title: 'x' }), {
      message: 'error code "SHOP_OK": status 200 is not an error status; use 400 to 599',
    });
    assert.throws(() => registerErrorCode('SHOP_EMPTY', { status: 400, title: ' ' }), {
      message: 'error code "SHOP_EMPTY": give a short title, e.g. "Post already published"',
    });
    assert.throws(() => new KilnError('SHOP_NEVER_REGISTERED' as never), {
      message: 'unknown error code "SHOP_NEVER_REGISTERED": register it with registerErrorCode first',
    });
  });
});
