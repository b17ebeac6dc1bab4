import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defineModel, defineResource, field } from '../../src/model/define.js';
import { compileOrThrow } from '../../src/model/load.js';

// The `@ts-expect-error` lines are the test: `npm run typecheck` fails if any of them stops being an
// error, i.e. if defineModel stopped catching that mistake.
describe('defineModel types', () => {
  test('a well-formed model type-checks and is returned as the plain data the loader reads', () => {
    const model = defineModel({
      resources: {
        authors: defineResource({ fields: { name: field.string({ maxLength: 100 }) } }),
        books: defineResource({
          fields: {
            title: field.string(),
            author: field.belongsTo('authors', { onDelete: 'cascade' }),
            shelves: field.manyToMany('shelves'),
          },
          unique: [['authorId', 'title']],
          indexes: [{ fields: ['createdAt', 'id'] }],
        }),
        shelves: { fields: { label: field.string(), books: field.manyToMany('books') } },
      },
    });
    assert.deepEqual(model.resources.books.fields.author, { type: 'belongsTo', target: 'authors', onDelete: 'cascade' });
    assert.deepEqual(
      compileOrThrow('test', model).resources.map((r) => r.name),
      ['authors', 'books', 'shelves'],
    );
  });

  test('relations to missing resources and unknown field names are type errors', () => {
    const declarations = [
      defineModel({
        resources: {
          // @ts-expect-error "author" is not a resource of this model (it is "authors")
          books: { fields: { author: field.belongsTo('author') } },
          authors: { fields: { name: field.string() } },
        },
      }),
      defineModel({
        resources: {
          // @ts-expect-error a hasMany to a resource the model does not declare
          authors: { fields: { books: field.hasMany('bookz') } },
        },
      }),
      defineModel({
        resources: {
          // @ts-expect-error unique names the relation, not its stored key "authorId"
          books: { fields: { title: field.string(), author: field.belongsTo('authors') }, unique: [['author', 'title']] },
          authors: { fields: { name: field.string() } },
        },
      }),
      defineModel({
        resources: {
          // @ts-expect-error an index on a field the resource does not have; timestamps are off too
          notes: { timestamps: false, fields: { body: field.text() }, indexes: [{ fields: ['createdAt'] }] },
        },
      }),
    ];
    // The same mistakes are refused at run time, for YAML/JSON and dynamically built models.
    for (const declaration of declarations) assert.throws(() => compileOrThrow('test', declaration), /the model has/);
  });
});
