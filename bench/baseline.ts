/**
 * The hand-written server Kiln is measured against: what a good engineer writes for the same reads
 * with Fastify 5, `pg` and (for the bearer token of the authenticated read) jose. A pool, named parameterised statements, querystring validation, and
 * response schemas so fast-json-stringify writes the JSON. It answers with the same JSON bytes as
 * Kiln (same keys, same order, same signed cursor), so the two do the same work for the client.
 * It has no request log, ETag, security headers or request id: everything Kiln adds is overhead
 * the comparison counts against Kiln.
 *
 * The list also serves the row-rule comparison: with a valid bearer token it lists only the rows
 * bench/models.ts's ROW_RULE lets that caller see (`status = 'published' OR author_id = <caller>`,
 * in the statement's WHERE, as a careful hand-written server applies such a rule); without one it
 * lists every row, as Kiln does for the blog without rules.
 *
 * Run alone: DATABASE_URL=… KILN_DB_SCHEMA=… node --import tsx bench/baseline.ts
 */
import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { jwtVerify } from 'jose';
import pg from 'pg';

export interface BaselineOptions {
  readonly databaseUrl: string;
  readonly schema: string;
  readonly poolMax: number;
  /** Signs `nextCursor` the way Kiln does, so both answer with equal bytes. */
  readonly cursorSecret: string;
  /** Verifies a bearer access token on the read by id, as Kiln does (bench/access-token.ts issues it). */
  readonly auth: BaselineAuth;
}

export interface BaselineAuth {
  readonly secret: string;
  readonly issuer: string;
  readonly audience: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The `sub` of a verified bearer token; undefined for an anonymous request. */
    callerId?: string;
  }
}

/**
 * What a careful hand-written server does with `Authorization: Bearer`: jose's jwtVerify with the
 * algorithm pinned, typ, issuer, audience, expiry and the required claims checked; 401 when invalid.
 * A request without the header stays anonymous.
 */
function bearerCheck(auth: BaselineAuth) {
  const key = new TextEncoder().encode(auth.secret);
  const options = {
    algorithms: ['HS256'],
    issuer: auth.issuer,
    audience: auth.audience,
    typ: 'at+jwt',
    clockTolerance: 30,
    requiredClaims: ['exp', 'iat', 'sub'],
  };
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization;
    if (header === undefined) return;
    const token = /^Bearer +(\S+)$/i.exec(header)?.[1];
    try {
      if (!token || token.length > 8192) throw new Error('not a bearer token');
      req.callerId = (await jwtVerify(token, key, options)).payload.sub;
    } catch {
      return reply.code(401).header('www-authenticate', 'Bearer realm="baseline", error="invalid_token"').send({ message: 'invalid token' });
    }
  };
}

const timestamp = { type: 'string', format: 'date-time' } as const;
const id = { type: 'integer' } as const;
const user = {
  type: 'object',
  properties: {
    id,
    email: { type: 'string' },
    name: { type: 'string' },
    // The account fields Kiln manages on the blog's users (the password hash stays hidden).
    roles: { type: 'array', items: { type: 'string' } },
    verified: { type: 'boolean' },
    disabled: { type: 'boolean' },
    createdAt: timestamp,
    updatedAt: timestamp,
  },
} as const;
const post = {
  type: 'object',
  properties: {
    id,
    title: { type: 'string' },
    slug: { type: ['string', 'null'] },
    body: { type: 'string' },
    status: { type: 'string' },
    authorId: id,
    createdAt: timestamp,
    updatedAt: timestamp,
    author: user,
  },
} as const;
const page = {
  type: 'object',
  properties: { limit: { type: 'integer' }, hasMore: { type: 'boolean' }, nextCursor: { type: ['string', 'null'] } },
} as const;

const POST_COLUMNS = 'p.id, p.title, p.slug, p.body, p.status, p.author_id AS "authorId", p.created_at AS "createdAt", p.updated_at AS "updatedAt"';
const AUTHOR_COLUMNS =
  'u.email AS "u_email", u.name AS "u_name", u.roles AS "u_roles", u.verified AS "u_verified", u.disabled AS "u_disabled", u.created_at AS "u_createdAt", u.updated_at AS "u_updatedAt"';

/** bigint ids as numbers (they stay below 2^53). */
const types = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format)),
};

interface PostRow {
  id: number;
  title: string;
  slug: string | null;
  body: string;
  status: string;
  authorId: number;
  createdAt: Date;
  updatedAt: Date;
  author?: unknown;
}
type JoinedRow = PostRow & {
  u_email: string;
  u_name: string;
  u_roles: string[];
  u_verified: boolean;
  u_disabled: boolean;
  u_createdAt: Date;
  u_updatedAt: Date;
};

interface ListStatement {
  readonly name: string;
  readonly text: string;
}

function listText(include: boolean, ruled: boolean): ListStatement {
  const from = include ? `SELECT ${POST_COLUMNS}, ${AUTHOR_COLUMNS} FROM posts p JOIN users u ON u.id = p.author_id` : `SELECT ${POST_COLUMNS} FROM posts p`;
  const where = ruled ? `p.author_id = $1 AND (p.status = 'published' OR p.author_id = $3)` : 'p.author_id = $1';
  return { name: `posts-of-author${include ? '-with-author' : ''}${ruled ? '-for-caller' : ''}`, text: `${from} WHERE ${where} ORDER BY p.id LIMIT $2` };
}

/** The list's statements, written once: without and with the author joined, each without and with the row rule. */
const LIST_STATEMENTS = [
  [listText(false, false), listText(false, true)],
  [listText(true, false), listText(true, true)],
] as const;

export async function buildBaseline(options: BaselineOptions): Promise<{ app: FastifyInstance; pool: pg.Pool }> {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolMax, options: `-c search_path=${options.schema}`, types });
  const app = Fastify();
  const sign = (payload: string) => createHmac('sha256', options.cursorSecret).update(payload).digest('base64url').slice(0, 22);

  app.get<{ Params: { id: number } }>(
    '/v1/posts/:id',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] },
        response: { 200: { type: 'object', properties: { data: post } } },
      },
      preHandler: bearerCheck(options.auth),
    },
    async (req, reply) => {
      const { rows } = await pool.query<PostRow>({ name: 'post-by-id', text: `SELECT ${POST_COLUMNS} FROM posts p WHERE p.id = $1`, values: [req.params.id] });
      if (rows.length === 0) return reply.code(404).send({ message: 'not found' });
      return { data: rows[0] };
    },
  );

  app.get<{ Querystring: { authorId: number; limit: number; include?: 'author' } }>(
    '/v1/posts',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: {
            authorId: { type: 'integer', minimum: 1 },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
            include: { enum: ['author'] },
          },
          required: ['authorId'],
          additionalProperties: false,
        },
        response: { 200: { type: 'object', properties: { data: { type: 'array', items: post }, page } } },
      },
      preHandler: bearerCheck(options.auth),
    },
    async (req) => {
      const { authorId, limit, include } = req.query;
      // A signed-in caller gets the row rule; ids are bigints, so a subject that is not one sees only the published rows.
      const ruled = req.callerId !== undefined;
      const caller = ruled && /^\d{1,18}$/.test(req.callerId ?? '') ? req.callerId : null;
      const { rows } = await pool.query<JoinedRow>({
        ...LIST_STATEMENTS[include ? 1 : 0][ruled ? 1 : 0],
        values: ruled ? [authorId, limit + 1, caller] : [authorId, limit + 1],
      });
      const hasMore = rows.length > limit;
      if (hasMore) rows.pop();
      const data: PostRow[] = include ? rows.map(withAuthor) : rows;
      const last = data[data.length - 1];
      let nextCursor: string | null = null;
      if (hasMore && last) {
        const payload = Buffer.from(JSON.stringify({ s: 'posts:id', v: [last.id] })).toString('base64url');
        nextCursor = `${payload}.${sign(payload)}`;
      }
      return { data, page: { limit, hasMore, nextCursor } };
    },
  );
  return { app, pool };
}

function withAuthor(row: JoinedRow): PostRow {
  return {
    id: row.id,
    title: row.title,
    slug: row.slug,
    body: row.body,
    status: row.status,
    authorId: row.authorId,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    author: {
      id: row.authorId,
      email: row.u_email,
      name: row.u_name,
      roles: row.u_roles,
      verified: row.u_verified,
      disabled: row.u_disabled,
      createdAt: row.u_createdAt,
      updatedAt: row.u_updatedAt,
    },
  };
}

/** As a child process of bench/run.ts: listen on 127.0.0.1, report the URL, stop on SIGTERM. */
async function main(): Promise<void> {
  const env = process.env;
  const { app, pool } = await buildBaseline({
    databaseUrl: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    schema: env.KILN_DB_SCHEMA ?? 'public',
    poolMax: Number(env.KILN_DB_POOL_MAX ?? 10),
    cursorSecret: env.KILN_CURSOR_SECRET ?? 'baseline',
    auth: { secret: env.KILN_AUTH_JWT_SECRET ?? '', issuer: env.KILN_AUTH_ISSUER ?? '', audience: env.KILN_AUTH_AUDIENCE ?? 'kiln-api' },
  });
  const url = await app.listen({ host: '127.0.0.1', port: Number(env.PORT ?? 0) });
  if (process.send) process.send({ url });
  else console.log(`baseline listening on ${url}`);
  const stop = async () => {
    await app.close();
    await pool.end();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.once('disconnect', stop);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
