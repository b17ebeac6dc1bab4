import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { compileOrThrow } from '../../src/model/load.js';
import { expectProblem } from '../helpers/problem.js';
import { BACKENDS, startTestServer, type TestServer } from '../helpers/server.js';

/** Every way a model asks for an index or a unique constraint. */
const model = compileOrThrow('indexes', {
  resources: {
    categories: { fields: { name: { type: 'string' } } },
    suppliers: { fields: { name: { type: 'string' } } },
    products: {
      fields: {
        sku: { type: 'string', unique: true },
        name: { type: 'string', index: true },
        status: { type: 'enum', values: ['draft', 'live'], default: 'draft', index: true },
        price: { type: 'integer' },
        shelf: { type: 'string' },
        aisle: { type: 'integer' },
        category: { type: 'belongsTo', target: 'categories' }, // a foreign key is indexed by default
        supplier: { type: 'belongsTo', target: 'suppliers', index: false },
        tags: { type: 'manyToMany', target: 'tags' },
      },
      unique: [['shelf', 'aisle']],
      indexes: [
        { fields: ['categoryId', 'price'] },
        { fields: ['status', 'createdAt'], name: 'products_recent' },
        { fields: ['name', 'supplierId'], unique: true },
      ],
    },
    tags: { fields: { label: { type: 'string' }, products: { type: 'manyToMany', target: 'products' } } },
  },
});

interface IndexRow {
  table: string;
  index: string;
  method: string;
  unique: boolean;
  primary: boolean;
  columns: string;
  /** `p` primary key, `u` unique constraint, null for a plain index. */
  constraint: string | null;
}

/** Every index of the server's schema, with its columns in key order, from the system catalog. */
const INDEXES = `
  SELECT t.relname::text AS "table", i.relname::text AS "index", am.amname::text AS "method",
         ix.indisunique AS "unique", ix.indisprimary AS "primary",
         (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord)
            FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum) AS "columns",
         c.contype::text AS "constraint"
    FROM pg_index ix
    JOIN pg_class i ON i.oid = ix.indexrelid
    JOIN pg_class t ON t.oid = ix.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    JOIN pg_am am ON am.oid = i.relam
    LEFT JOIN pg_constraint c ON c.conindid = ix.indexrelid AND c.conrelid = t.oid
   WHERE n.nspname = current_schema()
   ORDER BY t.relname::text COLLATE "C", i.relname::text COLLATE "C"`;

const index = (table: string, name: string, columns: string, kind: 'index' | 'unique' | 'primary' = 'index'): IndexRow => ({
  table,
  index: name,
  method: 'btree',
  unique: kind !== 'index',
  primary: kind === 'primary',
  columns,
  constraint: kind === 'index' ? null : kind === 'primary' ? 'p' : 'u',
});

for (const backend of BACKENDS) {
  describe(`indexes and unique constraints (${backend})`, () => {
    let server: TestServer;
    let rows: IndexRow[];

    before(async () => {
      server = await startTestServer(model, backend);
      rows = await server.db.query<IndexRow>(INDEXES);
    });
    after(() => server.close());

    const of = (table: string) => rows.filter((r) => r.table === table);

    test('index: true on a field is a btree index on its column', () => {
      assert.deepEqual(
        of('products').filter((r) => r.index === 'products_name_idx' || r.index === 'products_status_idx'),
        [index('products', 'products_name_idx', 'name'), index('products', 'products_status_idx', 'status')],
      );
    });

    test('a composite indexes entry is one index over its columns in order, named or not', () => {
      assert.deepEqual(
        of('products').filter((r) => r.index === 'products_category_id_price_idx' || r.index === 'products_recent'),
        [index('products', 'products_category_id_price_idx', 'category_id,price'), index('products', 'products_recent', 'status,created_at')],
      );
    });

    test('unique fields, unique lists and unique indexes entries are unique constraints', () => {
      assert.deepEqual(
        of('products').filter((r) => r.unique),
        [
          index('products', 'products_name_supplier_id_key', 'name,supplier_id', 'unique'),
          index('products', 'products_pkey', 'id', 'primary'),
          index('products', 'products_shelf_aisle_key', 'shelf,aisle', 'unique'),
          index('products', 'products_sku_key', 'sku', 'unique'),
        ],
      );
    });

    test('foreign keys are indexed unless index: false; nothing else is', () => {
      assert.deepEqual(
        of('products').map((r) => r.index),
        [
          'products_category_id_idx',
          'products_category_id_price_idx',
          'products_name_idx',
          'products_name_supplier_id_key',
          'products_pkey',
          'products_recent',
          'products_shelf_aisle_key',
          'products_sku_key',
          'products_status_idx',
        ],
      );
      assert.deepEqual(
        of('products').find((r) => r.index === 'products_category_id_idx'),
        index('products', 'products_category_id_idx', 'category_id'),
      );
      assert.equal(
        rows.some((r) => r.columns === 'supplier_id'),
        false,
        'supplier has index: false',
      );
      assert.deepEqual(of('categories'), [index('categories', 'categories_pkey', 'id', 'primary')]);
      assert.deepEqual(of('suppliers'), [index('suppliers', 'suppliers_pkey', 'id', 'primary')]);
      assert.deepEqual(of('tags'), [index('tags', 'tags_pkey', 'id', 'primary')]);
    });

    test('a join table has its pair as primary key and an index on the second column', () => {
      assert.deepEqual(
        model.joinTables.map((jt) => [jt.name, jt.left.column, jt.right.column]),
        [['products_tags', 'products_id', 'tags_id']],
      );
      assert.deepEqual(of('products_tags'), [
        index('products_tags', 'products_tags_pkey', 'products_id,tags_id', 'primary'),
        index('products_tags', 'products_tags_tags_id_idx', 'tags_id'),
      ]);
      assert.deepEqual(
        rows.map((r) => r.table).filter((t, i, all) => all.indexOf(t) === i),
        ['categories', 'kiln_idempotency_keys', 'products', 'products_tags', 'suppliers', 'tags'],
      );
    });

    test('the unique constraints hold over HTTP', async () => {
      const category = (await (await server.fetch('/v1/categories', { method: 'POST', json: { name: 'tools' } })).json()).data.id;
      const supplier = (await (await server.fetch('/v1/suppliers', { method: 'POST', json: { name: 'acme' } })).json()).data.id;
      const product = { sku: 'A-1', name: 'Hammer', price: 10, shelf: 'A', aisle: 1, categoryId: category, supplierId: supplier };
      assert.equal((await server.fetch('/v1/products', { method: 'POST', json: product })).status, 201);
      const cases: [Record<string, unknown>, string, string[]][] = [
        [{ ...product, name: 'Other', shelf: 'B' }, 'sku', ['/sku']],
        [{ ...product, sku: 'A-2', name: 'Other' }, 'shelf, aisle', ['/shelf', '/aisle']],
        [{ ...product, sku: 'A-3', shelf: 'C' }, 'name, supplierId', ['/name', '/supplierId']],
      ];
      for (const [body, fields, paths] of cases) {
        const problem = await expectProblem(await server.fetch('/v1/products', { method: 'POST', json: body }), 409, 'KILN_UNIQUE_VIOLATION');
        assert.equal(problem.detail, `another product already has this value of ${fields}`);
        assert.deepEqual(
          problem.errors?.map((e) => e.path),
          paths,
        );
      }
    });
  });
}
