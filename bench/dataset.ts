import { randomBytes } from 'node:crypto';
import { openPostgres } from '../src/db/postgres.js';
import { ensureSchema } from '../src/migrate/ensure-schema.js';
import type { Model } from '../src/model/ir.js';

export interface DatasetSize {
  readonly users: number;
  readonly posts: number;
  readonly tags: number;
  readonly tagsPerPost: number;
  readonly commentsPerPost: number;
}

export const DEFAULT_SIZE: DatasetSize = { users: 200, posts: 20_000, tags: 50, tagsPerPost: 2, commentsPerPost: 3 };

export interface Dataset {
  readonly schema: string;
  readonly size: DatasetSize;
  /** PostgreSQL's `server_version`. */
  readonly serverVersion: string;
  /** The pids of the PostgreSQL backends connected under `applicationName`, for CPU accounting (bench/cpu.ts). */
  backends(applicationName: string): Promise<Set<number>>;
  /** Drops the schema. */
  drop(): Promise<void>;
}

const LOREM =
  'The engine weaves algebraic patterns just as the Jacquard loom weaves flowers and leaves. ' +
  "It can arrange and combine numerical quantities as if they were letters; it isn't limited to arithmetic. " +
  'Notes written in 1843 describe a method for computing "Bernoulli numbers" step by step.\n';

/**
 * A fresh schema holding the blog model's tables (created by Kiln's own DDL, so the indexes are the
 * ones Kiln would create) and a realistic amount of data: posts spread evenly over users, bodies of
 * 200–1,000 characters with quotes and newlines, tags and comments.
 */
export async function createDataset(url: string, model: Model, size: DatasetSize = DEFAULT_SIZE): Promise<Dataset> {
  const schema = `kiln_bench_${randomBytes(5).toString('hex')}`;
  const db = openPostgres({ url, schema, poolMax: 2, connectTimeoutMs: 5000, idleTimeoutMs: 1000, statementTimeoutMs: 0 });
  const drop = async () => {
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  };
  try {
    await ensureSchema(db, model, schema);
    await db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO users (email, name, password_hash)
         SELECT 'user' || i || '@example.com', 'User ' || i, '$argon2id$v=19$bench-not-a-real-hash' FROM generate_series(1, $1::int) i`,
        [size.users],
      );
      await tx.query(
        `INSERT INTO posts (title, slug, body, status, author_id, created_at, updated_at)
         SELECT 'Post ' || i || ': notes on ' || left(md5(i::text), 12), 'post-' || i || '-notes-on-' || left(md5(i::text), 12),
                left(repeat($2::text, 4), 200 + (i * 37) % 800),
                CASE WHEN i % 3 = 0 THEN 'draft' ELSE 'published' END,
                1 + (i - 1) % $3::int,
                now() - make_interval(mins => i), now() - make_interval(mins => i)
         FROM generate_series(1, $1::int) i`,
        [size.posts, LOREM, size.users],
      );
      await tx.query(`INSERT INTO tags (name) SELECT 'tag-' || i FROM generate_series(1, $1::int) i`, [size.tags]);
      await tx.query(
        `INSERT INTO posts_tags (posts_id, tags_id)
         SELECT DISTINCT p, 1 + (p + k * 7) % $3::int FROM generate_series(1, $1::int) p, generate_series(0, $2::int - 1) k`,
        [size.posts, size.tagsPerPost, size.tags],
      );
      await tx.query(
        `INSERT INTO comments (body, post_id, author_id)
         SELECT 'Comment ' || c || ' on post ' || p || ': fascinating.', p, 1 + (p * c) % $3::int
         FROM generate_series(1, $1::int) p, generate_series(1, $2::int) c`,
        [size.posts, size.commentsPerPost, size.users],
      );
    });
    await db.query('ANALYZE users, posts, tags, posts_tags, comments');
    const [version] = await db.query<{ server_version: string }>('SHOW server_version');
    const backends = async (applicationName: string) => {
      const rows = await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
      return new Set(rows.map((r) => Number(r.pid)));
    };
    return { schema, size, serverVersion: version?.server_version ?? 'unknown', backends, drop: () => drop().finally(() => db.close()) };
  } catch (error) {
    await drop().catch(() => {});
    await db.close();
    throw error;
  }
}
