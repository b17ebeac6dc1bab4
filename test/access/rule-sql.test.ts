/**
 * A row rule is part of the one statement that reads the rows, never a second query or a filter in
 * JavaScript: on the blog, Barbara's list and get of posts each send exactly one SELECT, and its WHERE
 * holds the posts read rule folded for her (`status = 'published' OR author_id = 4`), with her id as a
 * parameter. For anonymous callers the auth.id branch folds away; for an editor the whole rule does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BACKENDS } from '../helpers/server.js';
import { type BlogWorld, callers, startBlogWorld } from './blog-world.js';

interface Statement {
  readonly text: string;
  readonly values: readonly unknown[];
}

/** The rule for a caller with an id, as the compiler writes it for the alias `t`. */
const RULE = /\(t\."status" = \$(\d+) OR t\."author_id" = \$(\d+)\)/;
/** The rule of comments, through their post: one EXISTS per branch, each a correlated subquery. */
const COMMENT_RULE =
  /\(EXISTS \(SELECT 1 FROM "posts" AS (r\d+) WHERE \1\."id" = t\."post_id" AND \1\."status" = \$(\d+)\) OR EXISTS \(SELECT 1 FROM "posts" AS (r\d+) WHERE \3\."id" = t\."post_id" AND \3\."author_id" = \$(\d+)\)\)/;

for (const backend of BACKENDS) {
  describe(`a row rule is in the SQL of the one statement that reads (${backend})`, () => {
    let w: BlogWorld;

    before(async () => {
      w = await startBlogWorld(backend);
    });
    after(() => w.server.close());

    /** The statements one request sent, with their parameters. */
    async function statementsOf(headers: Record<string, string>, path: string): Promise<{ statements: Statement[]; body: any }> {
      const statements: Statement[] = [];
      const stop = w.server.db.observe({ statement: (text, values) => statements.push({ text, values: values ?? [] }) });
      try {
        return { statements, body: await w.json(headers, path) };
      } finally {
        stop();
      }
    }

    /** The value a `$n` placeholder of a statement stands for. */
    const parameter = (statement: Statement, n: string | undefined) => statement.values[Number(n) - 1];

    test("Barbara's list of posts: one SELECT, whose WHERE is the rule with her id", async () => {
      const { statements, body } = await statementsOf(w.asBarbara, '/v1/posts?fields=id,status,authorId&limit=100');
      assert.equal(statements.length, 1, statements.map((s) => s.text).join('\n'));
      const [list] = statements as [Statement];
      assert.match(list.text, /^SELECT .* FROM "posts" AS t WHERE \(t\."status" = \$\d+ OR t\."author_id" = \$\d+\) ORDER BY /);
      const [, status, author] = RULE.exec(list.text) as RegExpExecArray;
      assert.deepEqual([parameter(list, status), String(parameter(list, author))], ['published', String(w.barbara)]);
      // What the statement returned is what she got: no row was dropped afterwards.
      for (const post of body.data) assert.ok(post.status === 'published' || post.authorId === w.barbara, JSON.stringify(post));
    });

    test("Barbara's get of a post: one SELECT, the id and the rule in its WHERE", async () => {
      for (const id of [2, w.barbaraDraft.id]) {
        const { statements, body } = await statementsOf(w.asBarbara, `/v1/posts/${id}`);
        assert.equal(statements.length, 1, statements.map((s) => s.text).join('\n'));
        const [get] = statements as [Statement];
        assert.match(get.text, /^SELECT .* FROM "posts" AS t WHERE t\."id" = \$1 AND \(t\."status" = \$\d+ OR t\."author_id" = \$\d+\)$/);
        const [, status, author] = RULE.exec(get.text) as RegExpExecArray;
        assert.deepEqual([get.values[0], parameter(get, status), String(parameter(get, author))], [id, 'published', String(w.barbara)]);
        assert.equal(body.data.id, id);
      }
    });

    test('a count is its own statement, and it carries the rule too', async () => {
      const { statements, body } = await statementsOf(w.asBarbara, '/v1/posts?count=true&limit=1');
      assert.equal(statements.length, 2, statements.map((s) => s.text).join('\n'));
      for (const statement of statements) assert.match(statement.text, RULE);
      assert.ok(statements.some((s) => /count\(\*\)/i.test(s.text)));
      assert.equal(body.page.total, 6);
    });

    test("the comments' rule goes through their post inside the same statement", async () => {
      const { statements } = await statementsOf(w.asBarbara, '/v1/comments?limit=100');
      assert.equal(statements.length, 1, statements.map((s) => s.text).join('\n'));
      const [list] = statements as [Statement];
      const match = COMMENT_RULE.exec(list.text);
      assert.ok(match, list.text);
      assert.deepEqual([parameter(list, match[2]), String(parameter(list, match[4]))], ['published', String(w.barbara)]);
    });

    test('an include reads under its own rule, in its own single statement', async () => {
      const { statements } = await statementsOf(w.asBarbara, '/v1/users/2?include=posts');
      assert.equal(statements.length, 2, statements.map((s) => s.text).join('\n'));
      const [user, posts] = statements as [Statement, Statement];
      assert.doesNotMatch(user.text, /status/, 'users are public: no rule');
      assert.match(posts.text, /FROM "posts" AS t WHERE t\."author_id" = ANY\(\$\d+\) AND \(t\."status" = \$\d+ OR t\."author_id" = \$\d+\)/);
    });

    test('the rule is folded for the caller: no auth.id branch for anonymous callers, no condition at all for an editor', async () => {
      const anonymous = (await statementsOf(callers.anonymous, '/v1/posts?limit=100')).statements;
      assert.equal(anonymous.length, 1);
      assert.match((anonymous[0] as Statement).text, /FROM "posts" AS t WHERE t\."status" = \$1 ORDER BY /);
      assert.equal((anonymous[0] as Statement).values[0], 'published');
      const editor = (await statementsOf(callers.grace, '/v1/posts?limit=100')).statements;
      assert.equal(editor.length, 1);
      assert.match((editor[0] as Statement).text, /FROM "posts" AS t ORDER BY /);
    });
  });
}
