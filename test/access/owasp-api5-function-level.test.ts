/**
 * OWASP API Security Top 10 (2023), API5: broken function level authorization. Every role of the blog
 * (anonymous, any signed-in account, editor, admin) × every operation of every resource, generated
 * from the model's own access table (`policyFor(model).table()`, what `kiln check` and the banner
 * print) and compared with what the server answers:
 *   'none' → 401 for an anonymous caller when some signed-in role may do it, 403 otherwise, with the
 *            exact problem;
 *   'all'  → allowed on every record tried, whoever it belongs to;
 *   'rows' → allowed on the caller's own records and 404 on the others.
 * Each cell is tried on fresh records, so a delete never takes away what another cell needs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type AccessTable, ModelPolicy, type Reach } from '../../src/access/policy.js';
import { blogModelWithRules } from '../helpers/blog.js';
import { as } from '../helpers/callers.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS } from '../helpers/server.js';
import { ADA, ALAN, type BlogWorld, callers, GRACE, startBlogWorld } from './blog-world.js';

interface Caller {
  readonly id: number | null;
  readonly headers: Record<string, string>;
}

/** Records to try one operation on: the caller's own (when signed in) and others'. */
interface Targets {
  readonly mine: number[];
  readonly others: number[];
}

let unique = 0;
const fresh = (prefix: string) => `${prefix}-${++unique}`;

for (const backend of BACKENDS) {
  describe(`OWASP API5: function level authorization, every role × every operation of the blog (${backend})`, () => {
    let w: BlogWorld;
    let table: AccessTable;
    let byRole: Record<string, Caller>;

    before(async () => {
      const model = await blogModelWithRules();
      table = new ModelPolicy(model, model.access as NonNullable<typeof model.access>).table();
      w = await startBlogWorld(backend);
      byRole = {
        anonymous: { id: null, headers: callers.anonymous },
        authenticated: { id: w.barbara, headers: w.asBarbara },
        editor: { id: GRACE, headers: callers.grace },
        admin: { id: ADA, headers: callers.ada },
      };
    });
    after(() => w.server.close());

    const created = async (headers: Record<string, string>, path: string, body: unknown): Promise<number> =>
      (await w.json(headers, path, 201, { method: 'POST', json: body })).data.id;

    /** Fresh records of `resource`, each in a different relation to the caller (see each case). */
    async function targetsOf(resource: string, caller: Caller): Promise<Targets> {
      switch (resource) {
        case 'posts': {
          // Alan's published post and Alan's draft; the caller's own draft.
          const published = await created(callers.alan, '/v1/posts', { title: fresh('published') });
          await w.json(callers.ada, `/v1/posts/${published}`, 200, { method: 'PATCH', json: { status: 'published' } });
          const draft = await created(callers.alan, '/v1/posts', { title: fresh('draft') });
          const mine = caller.id === null ? [] : [await created(caller.headers, '/v1/posts', { title: fresh('mine') })];
          return { mine, others: [published, draft] };
        }
        case 'comments': {
          // Alan's comments on a published post and on his draft; the caller's own on the published post.
          const draft = await created(callers.alan, '/v1/posts', { title: fresh('draft') });
          const others = [
            await created(callers.alan, '/v1/comments', { body: 'On 2', postId: 2 }),
            await created(callers.alan, '/v1/comments', { body: 'On a draft', postId: draft }),
          ];
          const mine = caller.id === null ? [] : [await created(caller.headers, '/v1/comments', { body: 'Mine', postId: 2 })];
          return { mine, others };
        }
        case 'users': {
          // Someone else's account; the caller's own (never deleted here: the caller acts on).
          const other = await created(callers.ada, '/v1/users', { email: `${fresh('user')}@example.com`, name: 'Someone' });
          return { mine: caller.id === null ? [] : [caller.id], others: [other] };
        }
        case 'tags':
          return { mine: [], others: [await created(callers.ada, '/v1/tags', { name: fresh('tag') })] };
        default:
          throw new Error(`no targets for ${resource}: add them here`);
      }
    }

    /** A body of `resource` that anyone allowed to create or update it may write. */
    function bodyOf(resource: string, operation: 'create' | 'update'): Record<string, unknown> {
      switch (resource) {
        case 'posts':
          return operation === 'create' ? { title: fresh('created') } : { body: 'Edited' };
        case 'comments':
          return operation === 'create' ? { body: 'Created', postId: 2 } : { body: 'Edited' };
        case 'users':
          return operation === 'create' ? { email: `${fresh('created')}@example.com`, name: 'Created' } : { name: 'Renamed' };
        case 'tags':
          return { name: fresh(operation) };
        default:
          throw new Error(`no body for ${resource}: add one here`);
      }
    }

    /** The statuses one operation gets, per request made. */
    async function statusesOf(resource: string, operation: string, caller: Caller): Promise<{ status: number; res?: Response }[]> {
      const call = (path: string, init: RequestInit & { json?: unknown } = {}) => w.call(caller.headers, path, init);
      const base = `/v1/${resource}`;
      if (operation === 'list') {
        const res = await call(`${base}?count=true&limit=1`);
        if (res.status !== 200) return [{ status: res.status, res }];
        const total = (await res.json()).page.total as number;
        const [stored] = await w.server.db.query<{ n: number }>(`SELECT count(*)::int AS "n" FROM "${resource}"`);
        // Listing every stored record counts as "all rows"; fewer, as a 200 on some and a 404 on the rest.
        return total === stored?.n ? [{ status: 200 }] : [{ status: 200 }, { status: 404 }];
      }
      if (operation === 'create') {
        const one = await call(base, { method: 'POST', json: bodyOf(resource, 'create') });
        const bulk = await call(`${base}/bulk`, { method: 'POST', json: [bodyOf(resource, 'create')] });
        await bulk.arrayBuffer();
        assert.equal(bulk.status, one.status, `POST ${base}/bulk answers as POST ${base}`);
        return [{ status: one.status, res: one }];
      }
      const { mine, others } = await targetsOf(resource, caller);
      const targets = operation === 'delete' && resource === 'users' ? others : [...mine, ...others];
      const answers: { status: number; res: Response }[] = [];
      for (const id of targets) {
        const res =
          operation === 'read'
            ? await call(`${base}/${id}`)
            : operation === 'update'
              ? await call(`${base}/${id}`, { method: 'PATCH', json: bodyOf(resource, 'update') })
              : await call(`${base}/${id}`, { method: 'DELETE' });
        answers.push({ status: res.status, res });
      }
      return answers;
    }

    function reachOf(statuses: readonly number[]): Reach | string {
      const ok = (s: number) => s >= 200 && s < 300;
      if (statuses.length > 0 && statuses.every((s) => s === 401 || s === 403)) return 'none';
      if (statuses.length > 0 && statuses.every(ok)) return 'all';
      if (statuses.some(ok) && statuses.every((s) => ok(s) || s === 404)) return 'rows';
      return `unexpected answers ${statuses.join(', ')}`;
    }

    test('the table has a caller for every role, and every cell says something', () => {
      assert.deepEqual(table.roles, ['anonymous', 'authenticated', 'editor', 'admin']);
      assert.equal(table.rows.length, 4 * 5, 'four resources × list, read, create, update, delete');
      const reaches = new Set(table.rows.flatMap((row) => Object.values(row.reach)));
      assert.deepEqual([...reaches].sort(), ['all', 'none', 'rows'], 'the blog exercises every kind of cell');
    });

    test('what the server answers is what the access table says, cell by cell', async () => {
      const observed: Record<string, Record<string, string>> = {};
      const expected: Record<string, Record<string, string>> = {};
      for (const row of table.rows) {
        const cell = `${row.resource}.${row.operation}`;
        observed[cell] = {};
        expected[cell] = { ...row.reach };
        for (const role of table.roles) {
          const caller = byRole[role] as Caller;
          const answers = await statusesOf(row.resource, row.operation, caller);
          const reach = reachOf(answers.map((a) => a.status));
          (observed[cell] as Record<string, string>)[role] = reach;
          if (reach !== 'none') {
            for (const { res } of answers) await res?.arrayBuffer();
            continue;
          }
          // A refusal says why, exactly; an anonymous caller is asked to sign in when that could help:
          // when some signed-in role may do it (admin always may).
          const signInHelps = Object.entries(row.reach).some(([other, reach]) => other !== 'anonymous' && reach !== 'none');
          for (const { status, res } of answers) {
            const unauthenticated = role === 'anonymous' && signInHelps;
            assert.equal(status, unauthenticated ? 401 : 403, `${role} ${cell}`);
            const code = unauthenticated ? 'KILN_UNAUTHENTICATED' : 'KILN_FORBIDDEN';
            const body = await expectProblem(res as Response, status, code);
            const action = `${row.operation} ${row.resource}`;
            const detail = unauthenticated
              ? `sign in to ${action}`
              : row.rule === undefined
                ? `no rule lets anyone ${action}`
                : `your roles do not allow you to ${action}`;
            assert.deepEqual(body, {
              type: `https://kiln.dev/errors/${code}`,
              title: unauthenticated ? 'Authentication required' : 'Forbidden',
              status,
              detail,
              code,
              instance: res?.headers.get('x-request-id'),
            });
            if (unauthenticated) assert.equal(res?.headers.get('www-authenticate'), 'Bearer realm="kiln"');
          }
        }
      }
      assert.deepEqual(observed, expected);
    });

    test('the publish route: editors and admins publish anyone’s draft; an author may not publish even their own; anonymous callers sign in first', async () => {
      const draft = await created(callers.alan, '/v1/posts', { title: fresh('to publish') });
      const anonymous = await w.call(callers.anonymous, `/v1/posts/${draft}/publish`, { method: 'POST' });
      const signIn = await expectProblem(anonymous, 401, 'KILN_UNAUTHENTICATED');
      assert.equal(signIn.detail, 'this route needs a signed-in caller: send Authorization: Bearer <access token>, an API key or the session cookie');
      assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="kiln"');
      const own = await expectProblem(await w.call(callers.alan, `/v1/posts/${draft}/publish`, { method: 'POST' }), 403, 'KILN_FORBIDDEN');
      assert.deepEqual(
        [own.detail, own.errors],
        ['/status: you may not write "status"', [{ path: '/status', code: 'forbidden', message: 'you may not write "status"' }]],
      );
      assert.equal((await w.json(callers.alan, `/v1/posts/${draft}`)).data.status, 'draft', 'still a draft');
      const published = await w.json(callers.grace, `/v1/posts/${draft}/publish`, 200, { method: 'POST' });
      assert.deepEqual([published.data.id, published.data.status, published.data.authorId], [draft, 'published', ALAN]);
      const again = await expectProblem(await w.call(callers.grace, `/v1/posts/${draft}/publish`, { method: 'POST' }), 409, 'BLOG_ALREADY_PUBLISHED');
      assert.equal(again.detail, `post ${draft} is already published`);
      // Once published, the post is the editors': its author edits it no more.
      const edit = await w.call(callers.alan, `/v1/posts/${draft}`, { method: 'PATCH', json: { body: 'Sneaky' } });
      assert.equal((await expectProblem(edit, 404, 'KILN_NOT_FOUND')).detail, `no such post (id ${draft})`);
      const barbaras = await created(w.asBarbara, '/v1/posts', { title: fresh('admin publishes') });
      assert.equal((await w.json(as(ADA, ['admin']), `/v1/posts/${barbaras}/publish`, 200, { method: 'POST' })).data.status, 'published');
    });
  });
}
