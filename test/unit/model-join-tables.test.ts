import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileModel } from '../../src/model/compile.js';
import { field } from '../../src/model/define.js';
import type { Model } from '../../src/model/ir.js';
import type { ModelProblem } from '../../src/model/problems.js';

function compiled(declaration: unknown): Model {
  const result = compileModel(declaration);
  if (!result.ok) assert.fail(`expected a valid model, got: ${JSON.stringify(result.problems, null, 2)}`);
  return result.model;
}

function problemsOf(declaration: unknown): ModelProblem[] {
  const result = compileModel(declaration);
  assert.equal(result.ok, false, 'expected the model to be rejected');
  return result.ok ? [] : [...result.problems];
}

/** relation → [join table, source column, target column] for every manyToMany of the model. */
function links(model: Model): Record<string, [string, string, string]> {
  const out: Record<string, [string, string, string]> = {};
  for (const r of model.resources) {
    for (const rel of r.relations) if (rel.kind === 'manyToMany') out[`${r.name}.${rel.name}`] = [rel.joinTable, rel.sourceColumn, rel.targetColumn];
  }
  return out;
}

const users = (fields: Record<string, unknown> = {}) => ({ fields: { name: field.string(), ...fields } });

describe('each manyToMany relation gets its own join table', () => {
  test('one relation each way: the two sides share <tableA>_<tableB>, as before', () => {
    const model = compiled({
      resources: { posts: { fields: { tags: field.manyToMany('tags') } }, tags: { fields: { posts: field.manyToMany('posts') } } },
    });
    assert.deepEqual(links(model), { 'posts.tags': ['posts_tags', 'posts_id', 'tags_id'], 'tags.posts': ['posts_tags', 'tags_id', 'posts_id'] });
    assert.deepEqual(model.joinTables, [
      { name: 'posts_tags', left: { resource: 'posts', column: 'posts_id' }, right: { resource: 'tags', column: 'tags_id' } },
    ]);
  });

  test('one relation declared on one side only keeps the sorted default too', () => {
    const model = compiled({ resources: { users: users(), posts: { fields: { editors: field.manyToMany('users') } } } });
    assert.deepEqual(links(model), { 'posts.editors': ['posts_users', 'posts_id', 'users_id'] });
  });

  test('two relations from one resource to the same target: <table>_<relation> each', () => {
    const model = compiled({
      resources: { users: users(), blogPosts: { fields: { editors: field.manyToMany('users'), watchedBy: field.manyToMany('users') } } },
    });
    assert.deepEqual(links(model), {
      'blogPosts.editors': ['blog_posts_editors', 'blog_posts_id', 'users_id'],
      'blogPosts.watchedBy': ['blog_posts_watched_by', 'blog_posts_id', 'users_id'],
    });
    assert.deepEqual(
      model.joinTables.map((jt) => [jt.name, jt.left.column, jt.right.column]),
      [
        ['blog_posts_editors', 'blog_posts_id', 'users_id'],
        ['blog_posts_watched_by', 'blog_posts_id', 'users_id'],
      ],
    );
  });

  test('the other side pairs with one of them by naming its table in through', () => {
    const model = compiled({
      resources: {
        users: users({ edits: field.manyToMany('posts', { through: 'posts_editors' }), watching: field.manyToMany('posts', { through: 'posts_watchers' }) }),
        posts: { fields: { editors: field.manyToMany('users'), watchers: field.manyToMany('users') } },
      },
    });
    assert.deepEqual(links(model), {
      'users.edits': ['posts_editors', 'users_id', 'posts_id'],
      'users.watching': ['posts_watchers', 'users_id', 'posts_id'],
      'posts.editors': ['posts_editors', 'posts_id', 'users_id'],
      'posts.watchers': ['posts_watchers', 'posts_id', 'users_id'],
    });
    assert.deepEqual(
      model.joinTables.map((jt) => jt.name),
      ['posts_editors', 'posts_watchers'],
    );
  });

  test('through may keep an existing table for one of several relations', () => {
    const model = compiled({
      resources: { users: users(), posts: { fields: { editors: field.manyToMany('users', { through: 'posts_users' }), watchers: field.manyToMany('users') } } },
    });
    assert.deepEqual(links(model), { 'posts.editors': ['posts_users', 'posts_id', 'users_id'], 'posts.watchers': ['posts_watchers', 'posts_id', 'users_id'] });
  });
});

describe('a join table that two relations could share ambiguously is a model error', () => {
  test('a side that could pair with several relations of the other resource', () => {
    const problems = problemsOf({
      resources: {
        users: users({ posts: field.manyToMany('posts') }),
        posts: { fields: { editors: field.manyToMany('users'), watchers: field.manyToMany('users') } },
      },
    });
    assert.deepEqual(problems, [
      {
        path: 'resources.users.fields.posts',
        message: '"posts" has 2 manyToMany relations to "users" (editors, watchers), so which one this is the other side of is ambiguous',
        hint: 'set through to the join table of the one it pairs with ("posts_editors" or "posts_watchers"), or to a table of its own',
      },
    ]);
  });

  test('is reported together with the other problems of the model', () => {
    const problems = problemsOf({
      resources: {
        users: users({ posts: field.manyToMany('posts'), age: { type: 'integer', min: 'zero' } }),
        posts: { fields: { editors: field.manyToMany('users'), watchers: field.manyToMany('users'), broken: field.manyToMany('nowhere') } },
      },
    });
    assert.deepEqual(
      problems.map((p) => p.path),
      ['resources.users.fields.age.min', 'resources.posts.fields.broken.target', 'resources.users.fields.posts'],
    );
  });

  test('two relations of one resource naming the same through', () => {
    const problems = problemsOf({
      resources: {
        users: users(),
        posts: { fields: { editors: field.manyToMany('users', { through: 'post_people' }), watchers: field.manyToMany('users', { through: 'post_people' }) } },
      },
    });
    assert.deepEqual(problems, [
      {
        path: 'resources.posts.fields.watchers.through',
        message: `join table "post_people" is also the table of relation posts.editors: the two relations would overwrite each other's links`,
        hint: 'give each relation a table of its own: a different through, or none (each then gets <table>_<relation>)',
      },
    ]);
  });

  test('a through naming the table of a link between other resources', () => {
    const problems = problemsOf({
      resources: {
        posts: { fields: { tags: field.manyToMany('tags') } },
        tags: { fields: { posts: field.manyToMany('posts') } },
        comments: { fields: { tags: field.manyToMany('tags', { through: 'posts_tags' }) } },
      },
    });
    assert.deepEqual(
      problems.map((p) => [p.path, p.message]),
      [['resources.comments.fields.tags.through', 'join table "posts_tags" is also the table of relation posts.tags, which is not the other side of this one']],
    );
    assert.match(problems[0]?.hint ?? '', /set a different through on comments.tags/);
  });

  test('a through of the other side used twice on that side', () => {
    const problems = problemsOf({
      resources: {
        users: users({ edits: field.manyToMany('posts', { through: 'posts_editors' }), alsoEdits: field.manyToMany('posts', { through: 'posts_editors' }) }),
        posts: { fields: { editors: field.manyToMany('users'), watchers: field.manyToMany('users') } },
      },
    });
    assert.deepEqual(
      problems.map((p) => p.path),
      ['resources.users.fields.alsoEdits.through'],
    );
  });

  test('a default join table name longer than PostgreSQL allows', () => {
    const long = `a${'b'.repeat(19)}`; // the table of `other` still fits; the long relation's names do not
    const problems = problemsOf({
      resources: { users: users(), [long]: { fields: { [`${long}x`]: field.manyToMany('users'), other: field.manyToMany('users') } } },
    });
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.path, `resources.${long}.fields.${long}x`);
    assert.match(problems[0]?.message ?? '', /longer than the 63 characters PostgreSQL allows/);
    assert.match(problems[0]?.hint ?? '', /set through/);
  });

  test('a default join table that is also a resource table', () => {
    const problems = problemsOf({
      resources: { users: users(), posts: { fields: { editors: field.manyToMany('users'), watchers: field.manyToMany('users') } }, postsEditors: users() },
    });
    assert.deepEqual(
      problems.map((p) => [p.path, p.message]),
      [['resources.postsEditors', 'table "posts_editors" is also the join table of a manyToMany relation']],
    );
  });
});
