/**
 * OWASP API Security Top 10 (2023), API3: broken object property level authorization. On the blog as
 * it ships: the password hash is hidden from everyone; an email is read by its owner and admins only
 * and written by admins only; a post's status is the editors' to write; authors, roles, verification
 * and the disabled flag are set by the server. No such property is returned, filtered, sorted,
 * selected or written by someone it is not for, whatever the path: list, get, include, write answers,
 * bulk, PUT and links, ETags and cursors.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, type TestResponse } from '../helpers/server.js';
import { ADA, ALAN, type BlogWorld, callers, GRACE, ids, startBlogWorld } from './blog-world.js';

const withoutInstance = ({ instance: _instance, ...rest }: Record<string, unknown>) => rest;

/** The 400 a query naming `field` gets, and the one it would get naming a field that does not exist. */
async function expectUnknownField(res: TestResponse, nope: TestResponse, field: string): Promise<void> {
  const body = withoutInstance(await expectProblem(res, 400, 'KILN_QUERY_INVALID'));
  const unknown = withoutInstance(await expectProblem(nope, 400, 'KILN_QUERY_INVALID'));
  assert.deepEqual(body, JSON.parse(JSON.stringify(unknown).replaceAll('nope', field)));
}

/** 400 for a query that filters or sorts by a field the caller reads on some rows only. */
async function expectRestricted(res: TestResponse, path: string, message: string): Promise<void> {
  const body = withoutInstance(await expectProblem(res, 400, 'KILN_QUERY_INVALID'));
  assert.deepEqual(body, {
    type: 'https://kiln.dev/errors/KILN_QUERY_INVALID',
    title: 'Invalid query parameter',
    status: 400,
    detail: `${path}: ${message}`,
    code: 'KILN_QUERY_INVALID',
    errors: [{ path, code: 'restricted', message }],
  });
}

/** 403 naming each field of the body the caller may not write. */
async function expectUnwritable(res: TestResponse, paths: readonly string[]): Promise<void> {
  const body = withoutInstance(await expectProblem(res, 403, 'KILN_FORBIDDEN'));
  const errors = paths.map((path) => ({ path, code: 'forbidden', message: `you may not write "${path.split('/').at(-1)}"` }));
  const first = errors[0] as { path: string; message: string };
  assert.deepEqual(body, {
    type: 'https://kiln.dev/errors/KILN_FORBIDDEN',
    title: 'Forbidden',
    status: 403,
    detail: errors.length === 1 ? `${first.path}: ${first.message}` : `the body sets ${errors.length} fields you may not write`,
    code: 'KILN_FORBIDDEN',
    errors,
  });
}

/** 400 for a body that sets a field only the server sets. */
async function expectReadOnly(res: TestResponse, path: string): Promise<void> {
  const field = path.split('/').at(-1) as string;
  const message = `"${field}" is set by the server and cannot be written`;
  assert.deepEqual(withoutInstance(await expectProblem(res, 400, 'KILN_VALIDATION_FAILED')), {
    type: 'https://kiln.dev/errors/KILN_VALIDATION_FAILED',
    title: 'Request validation failed',
    status: 400,
    detail: `${path}: ${message}`,
    code: 'KILN_VALIDATION_FAILED',
    errors: [{ path, code: 'readOnly', message }],
  });
}

/** Every object in a JSON answer that is a user (it has a name and an id, and is not a tag): where emails could show. */
function usersIn(value: unknown, found: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(value)) for (const item of value) usersIn(item, found);
  else if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if ('roles' in record && 'name' in record) found.push(record);
    for (const item of Object.values(record)) usersIn(item, found);
  }
  return found;
}

/** The ids of the users in an answer that carry an email, each once. */
const withEmail = (body: unknown) =>
  [
    ...new Set(
      usersIn(body)
        .filter((u) => 'email' in u)
        .map((u) => u.id as number),
    ),
  ].sort((a, b) => a - b);

for (const backend of BACKENDS) {
  describe(`OWASP API3: object property level authorization on the blog (${backend})`, () => {
    let w: BlogWorld;
    let B: Record<string, string>;
    /** Reads that return users, directly or through includes at depth 1 and 2. */
    let userReads: string[];

    before(async () => {
      w = await startBlogWorld(backend);
      B = w.asBarbara;
      userReads = [
        '/v1/users?limit=100',
        `/v1/users/${ALAN}`,
        `/v1/users/${w.barbara}`,
        '/v1/posts?include=author&limit=100',
        '/v1/posts/2?include=author,comments.author',
        '/v1/comments?include=author,post.author&limit=100',
        `/v1/users/${ALAN}?include=posts.comments.author`,
        '/v1/tags/2?include=posts.author',
      ];
    });
    after(() => w.server.close());

    test('the password hash is never returned, to anyone, by any read or write', async () => {
      const answers: string[] = [];
      for (const caller of [callers.anonymous, B, callers.grace, callers.ada]) {
        for (const path of userReads) answers.push(await (await w.call(caller, path)).text());
      }
      answers.push(await (await w.call(B, `/v1/users/${w.barbara}`, { method: 'PATCH', json: { name: 'Barbara Liskov' } })).text());
      answers.push(await (await w.call(callers.ada, `/v1/users/${ALAN}`, { method: 'PUT', json: { name: 'Alan Turing', email: 'alan@example.com' } })).text());
      answers.push(await (await w.call(callers.ada, '/v1/users', { method: 'POST', json: { email: 'edsger@example.com', name: 'Edsger' } })).text());
      answers.push(await (await w.call(callers.ada, '/v1/users/bulk', { method: 'POST', json: [{ email: 'tony@example.com', name: 'Tony' }] })).text());
      for (const text of answers) {
        assert.ok(text.includes('"name"'), text);
        assert.doesNotMatch(text, /passwordHash|\$argon2/);
      }
    });

    test('the password hash is unknown to filters, sorts, selections and relation filters, for admins too', async () => {
      for (const caller of [callers.anonymous, B, callers.ada]) {
        for (const [query, nope] of [
          ['/v1/users?passwordHash=x', '/v1/users?nope=x'],
          ['/v1/users?passwordHash[startsWith]=$argon2', '/v1/users?nope[startsWith]=$argon2'],
          ['/v1/users?sort=passwordHash', '/v1/users?sort=nope'],
          ['/v1/users?fields=id,passwordHash', '/v1/users?fields=id,nope'],
          [`/v1/users/${ALAN}?fields=passwordHash`, `/v1/users/${ALAN}?fields=nope`],
          ['/v1/posts?author.passwordHash=x', '/v1/posts?author.nope=x'],
        ]) {
          await expectUnknownField(await w.call(caller, query as string), await w.call(caller, nope as string), 'passwordHash');
        }
      }
    });

    test('an email is returned to its owner and to admins only: in lists, by id, in includes at every depth, in write answers', async () => {
      const everyone = [ADA, ALAN, GRACE, w.barbara];
      for (const path of userReads) {
        const shown = async (caller: Record<string, string>) => withEmail(await w.json(caller, path));
        assert.deepEqual(await shown(callers.anonymous), [], `anonymous ${path}`);
        const usersThere = (await shown(callers.ada)).filter((id) => everyone.includes(id));
        assert.ok(usersThere.length > 0, `${path} shows some user to an admin`);
        assert.deepEqual(await shown(B), usersThere.includes(w.barbara) ? [w.barbara] : [], `Barbara ${path}`);
        assert.deepEqual(await shown(callers.grace), usersThere.includes(GRACE) ? [GRACE] : [], `the editor ${path}`);
      }
      const own = (await w.json(B, `/v1/users/${w.barbara}`)).data;
      assert.equal(own.email, 'barbara@example.com');
      assert.equal('email' in (await w.json(B, `/v1/users/${ALAN}`)).data, false);
      const answer = await w.json(B, `/v1/users/${w.barbara}`, 200, { method: 'PATCH', json: { name: 'Barbara L.' } });
      assert.equal(answer.data.email, 'barbara@example.com', 'the answer to her own write');
      assert.equal((await w.json(callers.ada, `/v1/users/${ALAN}`, 200, { method: 'PATCH', json: { name: 'Alan Turing' } })).data.email, 'alan@example.com');
      // Selecting it is allowed: it comes back where it may be read.
      const selected = await w.json(B, '/v1/users?fields=id,email&limit=100');
      assert.deepEqual(
        selected.data.filter((u: { email?: string }) => 'email' in u),
        [{ id: w.barbara, email: 'barbara@example.com' }],
      );
    });

    test('an email cannot be filtered or sorted by who cannot read it everywhere; to anonymous callers it does not exist', async () => {
      const restricted = (verb: string, path: string) => `cannot ${verb} by "${path}": you may read "email" on some users only`;
      for (const caller of [B, callers.grace]) {
        await expectRestricted(await w.call(caller, '/v1/users?email=alan@example.com'), 'email', restricted('filter', 'email'));
        await expectRestricted(await w.call(caller, '/v1/users?email[iendsWith]=@example.com'), 'email[iendsWith]', restricted('filter', 'email[iendsWith]'));
        await expectRestricted(await w.call(caller, '/v1/users?sort=-email'), 'sort', restricted('sort', 'email'));
        await expectRestricted(await w.call(caller, '/v1/comments?author.email=alan@example.com'), 'author.email', restricted('filter', 'author.email'));
      }
      const pairs: [string, string][] = [
        ['/v1/users?email=alan@example.com', '/v1/users?nope=alan@example.com'],
        ['/v1/users?sort=email', '/v1/users?sort=nope'],
        ['/v1/users?fields=id,email', '/v1/users?fields=id,nope'],
        ['/v1/posts?author.email=alan@example.com', '/v1/posts?author.nope=alan@example.com'],
        ['/v1/comments?author.email[iendsWith]=@example.com', '/v1/comments?author.nope[iendsWith]=@example.com'],
      ];
      for (const [query, nope] of pairs) await expectUnknownField(await w.call(callers.anonymous, query), await w.call(callers.anonymous, nope), 'email');
      assert.deepEqual(ids(await w.json(callers.ada, '/v1/users?email=alan@example.com')), [ALAN], 'an admin filters by it');
      assert.equal((await w.json(callers.ada, '/v1/users?sort=email&limit=1')).data[0].email, 'ada@example.com', 'and sorts by it');
    });

    test("a cursor of an admin's sort by email does not carry the sort to anyone else", async () => {
      const page = await w.json(callers.ada, '/v1/users?sort=email&limit=1');
      const cursor = encodeURIComponent(page.page.nextCursor);
      await expectRestricted(
        await w.call(B, `/v1/users?sort=email&cursor=${cursor}`),
        'sort',
        'cannot sort by "email": you may read "email" on some users only',
      );
      // Without the sort, the cursor names a sort the list is not in: refused, revealing nothing of the emails.
      const replayed = withoutInstance(await expectProblem(await w.call(B, `/v1/users?cursor=${cursor}`), 400, 'KILN_CURSOR_INVALID'));
      const detail = 'the cursor was issued for another sort order or resource; pass the same `sort` as the first page';
      assert.deepEqual(replayed, {
        type: 'https://kiln.dev/errors/KILN_CURSOR_INVALID',
        title: 'Invalid pagination cursor',
        status: 400,
        detail,
        code: 'KILN_CURSOR_INVALID',
        errors: [{ path: 'cursor', code: 'invalid', message: detail }],
      });
    });

    test('a cursor is bound to the caller it was given to: another signed-in caller is refused it, anonymous callers share theirs', async () => {
      const page = await w.json(callers.grace, '/v1/posts?limit=1');
      const cursor = encodeURIComponent(page.page.nextCursor);
      assert.equal((await w.call(callers.grace, `/v1/posts?limit=1&cursor=${cursor}`)).status, 200, 'its own caller pages on');
      const detail = 'the cursor was issued to another caller; page with the cursors your own requests were given';
      for (const other of [B, callers.ada, callers.anonymous]) {
        const refused = withoutInstance(await expectProblem(await w.call(other, `/v1/posts?limit=1&cursor=${cursor}`), 400, 'KILN_CURSOR_INVALID'));
        assert.deepEqual(refused, {
          type: 'https://kiln.dev/errors/KILN_CURSOR_INVALID',
          title: 'Invalid pagination cursor',
          status: 400,
          detail,
          code: 'KILN_CURSOR_INVALID',
          errors: [{ path: 'cursor', code: 'invalid', message: detail }],
        });
      }
      const anonymous = await w.json(callers.anonymous, '/v1/posts?limit=1');
      const shared = await w.call(callers.anonymous, `/v1/posts?limit=1&cursor=${encodeURIComponent(anonymous.page.nextCursor)}`);
      assert.equal(shared.status, 200);
    });

    test('an ETag is the hash of the body the caller was shown: callers who see the same share it, the owner of the email has her own', async () => {
      const shown = async (caller: Record<string, string>, path: string) => {
        const res = await w.call(caller, path);
        const body = Buffer.from(await res.arrayBuffer());
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('etag'), `"${createHash('sha1').update(body).digest('base64url')}"`, path);
        return { etag: res.headers.get('etag'), body: body.toString() };
      };
      for (const path of [`/v1/users/${w.barbara}`, '/v1/users?limit=100', `/v1/posts/${w.barbaraDraft.id}?include=author`]) {
        const own = await shown(B, path);
        assert.match(own.body, /barbara@example\.com/, path);
        if (path.startsWith('/v1/posts')) continue; // her draft: nobody else but editors and admins reads it
        const anonymous = await shown(callers.anonymous, path);
        assert.doesNotMatch(anonymous.body, /@example\.com/, path);
        // The editor sees her own email in the list only, so on Barbara's record she is shown what anonymous callers are.
        if (!path.includes('?')) assert.equal((await shown(callers.grace, path)).etag, anonymous.etag, `the editor: ${path}`);
        assert.notEqual(own.etag, anonymous.etag, path);
        // An If-None-Match of the owner's ETag is no match for anyone else, and the other way round.
        const crossed = await w.call(callers.anonymous, path, { headers: { 'if-none-match': own.etag as string } });
        assert.equal(crossed.status, 200);
        await crossed.arrayBuffer();
        const mine = await w.call(callers.anonymous, path, { headers: { 'if-none-match': anonymous.etag as string } });
        assert.equal(mine.status, 304);
      }
    });

    test('an email is written by admins only: 403 naming it on PATCH and PUT, and nothing changes', async () => {
      const me = `/v1/users/${w.barbara}`;
      const email = (await w.json(B, me)).data.email;
      await expectUnwritable(await w.call(B, me, { method: 'PATCH', json: { email: 'b@example.com' } }), ['/email']);
      await expectUnwritable(await w.call(B, me, { method: 'PATCH', json: { name: 'Renamed', email: 'b@example.com' } }), ['/email']);
      await expectUnwritable(await w.call(B, me, { method: 'PUT', json: { name: 'Renamed', email: 'b@example.com' } }), ['/email']);
      await expectUnwritable(await w.call(callers.grace, `/v1/users/${GRACE}`, { method: 'PATCH', json: { email: 'g@example.com' } }), ['/email']);
      // A PUT that leaves the email out keeps it: the caller could not have set it back.
      const replaced = await w.json(B, me, 200, { method: 'PUT', json: { name: 'Barbara Liskov' } });
      assert.deepEqual([replaced.data.name, replaced.data.email], ['Barbara Liskov', email]);
      const stored = await w.json(callers.ada, me);
      assert.deepEqual([stored.data.name, stored.data.email], ['Barbara Liskov', email]);
      // An admin changes it.
      const changed = await w.json(callers.ada, me, 200, { method: 'PATCH', json: { email: 'barbara.liskov@example.com' } });
      assert.equal(changed.data.email, 'barbara.liskov@example.com');
      await w.json(callers.ada, me, 200, { method: 'PATCH', json: { email } });
    });

    test("a post's status is the editors' to write: 403 naming it on create, bulk create, PATCH, PUT and with links; nothing is written", async () => {
      const mine = `/v1/posts/${w.barbaraDraft.id}`;
      const count = async () => (await w.json(B, '/v1/posts?status=draft&count=true&limit=1')).page.total;
      const before = await count();
      await expectUnwritable(await w.call(B, '/v1/posts', { method: 'POST', json: { title: 'Straight out', status: 'published' } }), ['/status']);
      await expectUnwritable(await w.call(B, '/v1/posts', { method: 'POST', json: { title: 'Even a draft', status: 'draft' } }), ['/status']);
      await expectUnwritable(await w.call(B, '/v1/posts', { method: 'POST', json: { title: 'Tagged', tags: [1, 2], status: 'published' } }), ['/status']);
      await expectUnwritable(
        await w.call(B, '/v1/posts/bulk', {
          method: 'POST',
          json: [{ title: 'Fine' }, { title: 'Not fine', status: 'published' }, { title: 'Nor this', status: 'published' }],
        }),
        ['/1/status', '/2/status'],
      );
      await expectUnwritable(await w.call(B, mine, { method: 'PATCH', json: { status: 'published' } }), ['/status']);
      await expectUnwritable(await w.call(B, mine, { method: 'PATCH', json: { tags: [3], status: 'published' } }), ['/status']);
      await expectUnwritable(await w.call(B, mine, { method: 'PUT', json: { title: 'Abstraction', status: 'published' } }), ['/status']);
      assert.equal(await count(), before, 'no post was created');
      const stored = (await w.json(B, `${mine}?include=tags`)).data;
      assert.deepEqual([stored.title, stored.status, stored.tags], ['Abstraction (draft)', 'draft', []]);
      assert.equal((await w.json(B, '/v1/posts?title=Fine')).data.length, 0, 'the bulk create was refused whole');
    });

    test('fields the server sets cannot be forged, by anyone: a post or comment author, roles, verified, disabled, the password hash', async () => {
      const mine = `/v1/posts/${w.barbaraDraft.id}`;
      await expectReadOnly(await w.call(B, '/v1/posts', { method: 'POST', json: { title: 'As Alan', authorId: ALAN } }), '/authorId');
      await expectReadOnly(
        await w.call(B, '/v1/posts/bulk', { method: 'POST', json: [{ title: 'Mine' }, { title: 'As Alan', authorId: ALAN }] }),
        '/1/authorId',
      );
      await expectReadOnly(await w.call(B, mine, { method: 'PATCH', json: { authorId: ALAN } }), '/authorId');
      await expectReadOnly(await w.call(B, mine, { method: 'PUT', json: { title: 'x', authorId: ALAN } }), '/authorId');
      await expectReadOnly(await w.call(B, '/v1/comments', { method: 'POST', json: { body: 'As Alan', postId: 2, authorId: ALAN } }), '/authorId');
      await expectReadOnly(await w.call(callers.ada, '/v1/posts', { method: 'POST', json: { title: 'As Alan', authorId: ALAN } }), '/authorId');
      for (const [field, value] of [
        ['roles', ['admin']],
        ['verified', true],
        ['disabled', false],
        ['passwordHash', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'],
      ] as const) {
        await expectReadOnly(await w.call(B, `/v1/users/${w.barbara}`, { method: 'PATCH', json: { [field]: value } }), `/${field}`);
        await expectReadOnly(await w.call(callers.ada, `/v1/users/${ALAN}`, { method: 'PATCH', json: { [field]: value } }), `/${field}`);
        const replace = { name: 'Alan Turing', email: 'alan@example.com', [field]: value };
        await expectReadOnly(await w.call(callers.ada, `/v1/users/${ALAN}`, { method: 'PUT', json: replace }), `/${field}`);
      }
      const stored = (await w.json(callers.ada, `/v1/users/${w.barbara}`)).data;
      assert.deepEqual([stored.roles, stored.verified, stored.disabled], [[], false, false]);
      assert.equal((await w.json(B, mine)).data.authorId, w.barbara);
    });
  });
}
