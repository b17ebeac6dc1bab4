/**
 * The measures behind Kiln's GraphQL bounds (src/graphql/cost.ts, operation-shape.ts, limits.ts) on a
 * hand-built schema of Kiln's shape (list fields take `limit` and return a page of `items`): cost with
 * literals, variables, variable defaults and schema defaults, nested limits, bulk `inputs`, fragments
 * and type conditions; depth and aliases with fragments and cycles; and the rules' errors.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildSchema, type DocumentNode, type OperationDefinitionNode, parse } from 'graphql';
import { operationCost, type Variables } from '../../src/graphql/cost.js';
import { type GraphqlLimits, graphqlLimitsFrom, validateDocument } from '../../src/graphql/limits.js';
import { fragmentsOf, operationAliases, operationDepth, operationsToMeasure } from '../../src/graphql/operation-shape.js';

const schema = buildSchema(`
  type Query {
    posts(limit: Int = 20, after: String): PostPage
    post(id: ID!): Post
    tags: [Tag!]!
    search(limit: Int): [Post!]!
  }
  type Mutation {
    createPosts(inputs: [PostInput!]!): [Post!]
    createPost(input: PostInput!): Post
  }
  input PostInput { title: String! }
  interface Node { id: ID! }
  type Post implements Node { id: ID! title: String body: String author: User comments(limit: Int = 5): CommentPage words: [String!] }
  type Comment implements Node { id: ID! body: String author: User }
  type User { id: ID! name: String }
  type Tag { id: ID! name: String }
  type CommentPage { items: [Comment!]! page: PageInfo! }
  type PostPage { items: [Post!]! page: PageInfo! }
  type PageInfo { limit: Int! hasMore: Boolean! nextCursor: String }
`);

function only(document: DocumentNode): OperationDefinitionNode {
  const [operation] = operationsToMeasure(document);
  assert.ok(operation);
  return operation;
}

function cost(source: string, variables?: Variables): number {
  const document = parse(source);
  return operationCost(schema, document, only(document), variables);
}

function depth(source: string): number {
  const document = parse(source);
  return operationDepth(only(document), fragmentsOf(document));
}

function aliases(source: string): number {
  const document = parse(source);
  return operationAliases(only(document), fragmentsOf(document));
}

describe('cost: fields of records at worst', () => {
  test('each field costs 1', () => {
    assert.equal(cost('{ post(id: 1) { id title author { name } } }'), 5);
    assert.equal(cost('{ __typename }'), 1);
  });

  test("a page's items cost their selection times the limit; the page's own fields once", () => {
    // posts 1 + items (1 + 20 × 2) + page (1 + 1)
    assert.equal(cost('{ posts { items { id title } page { hasMore } } }'), 1 + 41 + 2);
    assert.equal(cost('{ posts(limit: 3) { items { id title } } }'), 1 + 1 + 3 * 2);
  });

  test('the limit comes from a variable, else its default, else the schema default', () => {
    const source = 'query ($n: Int) { posts(limit: $n) { items { id } } }';
    assert.equal(cost(source, { n: 7 }), 2 + 7);
    assert.equal(cost(source, {}), 2 + 20, 'no variable: the schema default');
    assert.equal(cost(source, { n: null }), 2 + 20, 'null: the schema default, as the resolver reads it');
    assert.equal(cost('query ($n: Int = 4) { posts(limit: $n) { items { id } } }'), 2 + 4);
    assert.equal(cost('query ($n: Int = 4) { posts(limit: $n) { items { id } } }', { n: 9 }), 2 + 9);
    assert.equal(cost(source, { n: 'many' }), 2 + 1, 'a value execution refuses counts once');
    assert.equal(cost('{ search { id } }'), 1 + 1, 'a limit without value nor default counts one element');
  });

  test('nested limits multiply, with their own defaults', () => {
    // items of posts: 20 × (id 1 + comments (1 + items (1 + 5 × 2)))
    assert.equal(cost('{ posts { items { id comments { items { id body } } } } }'), 2 + 20 * (1 + 1 + 1 + 5 * 2));
    assert.equal(cost('{ posts(limit: 10) { items { comments(limit: 10) { items { id } } } } }'), 2 + 10 * (2 + 10));
  });

  test('a list field with a limit of its own counts its elements by it; one without counts one element', () => {
    assert.equal(cost('{ search(limit: 50) { id title } }'), 1 + 50 * 2);
    assert.equal(cost('{ tags { id name } }'), 1 + 2);
    assert.equal(cost('{ posts(limit: 10) { items { words } } }'), 2 + 10 * (1 + 1), 'a list of scalars: one per element');
  });

  test('a bulk mutation counts its inputs, from the literal or the variable', () => {
    assert.equal(cost('mutation { createPosts(inputs: [{ title: "a" }, { title: "b" }, { title: "c" }]) { id title } }'), 1 + 3 * 2);
    const source = 'mutation ($all: [PostInput!]!) { createPosts(inputs: $all) { id } }';
    assert.equal(cost(source, { all: Array.from({ length: 1000 }, () => ({ title: 't' })) }), 1 + 1000);
    assert.equal(cost(source, { all: { title: 'one' } }), 1 + 1, 'one value is a list of one');
    assert.equal(cost('mutation { createPosts(inputs: []) { id } }'), 1);
    assert.equal(cost('mutation { createPost(input: { title: "a" }) { id } }'), 2);
  });

  test('fragments and inline fragments cost as if written in place, the limit of their parent applying', () => {
    const spread = cost(
      '{ posts(limit: 4) { ...Page } } fragment Page on PostPage { items { ...Fields } page { limit } } fragment Fields on Post { id title }',
    );
    const inline = cost('{ posts(limit: 4) { ... on PostPage { items { ... { id title } } page { limit } } } }');
    const written = cost('{ posts(limit: 4) { items { id title } page { limit } } }');
    assert.equal(spread, written);
    assert.equal(inline, written);
    assert.equal(cost('{ posts { items { ... on Node { id } ... on Post { title } } } }'), 2 + 20 * 2, 'both type conditions count');
  });

  test('the same field twice counts twice, and a fragment spread twice too', () => {
    assert.equal(cost('{ a: posts { items { id } } b: posts { items { id } } }'), 2 * 22);
    assert.equal(cost('{ post(id: 1) { ...F ...F } } fragment F on Post { id title }'), 1 + 4);
  });

  test('introspection costs one per root field', () => {
    assert.equal(cost('{ __schema { types { name fields { name } } } __type(name: "Post") { name } }'), 2);
  });

  test('a fragment cycle ends', () => {
    assert.equal(cost('{ post(id: 1) { ...A } } fragment A on Post { id author { id } ...B } fragment B on Post { title ...A }'), 1 + 4);
  });

  test('the example of the settings table: 20 posts of 10 fields with 20 comments of 5 fields each', () => {
    const big = buildSchema(`
      type Query { posts(limit: Int = 20): PostPage }
      type PostPage { items: [Post!]! }
      type Post { f1: String f2: String f3: String f4: String f5: String f6: String f7: String f8: String f9: String f10: String comments(limit: Int = 20): CommentPage }
      type CommentPage { items: [Comment!]! }
      type Comment { g1: String g2: String g3: String g4: String g5: String }
    `);
    const document = parse('{ posts { items { f1 f2 f3 f4 f5 f6 f7 f8 f9 f10 comments { items { g1 g2 g3 g4 g5 } } } } }');
    assert.equal(operationCost(big, document, only(document), {}), 2242);
  });
});

describe('depth: deepest nesting of fields', () => {
  test('counts fields, not fragments', () => {
    assert.equal(depth('{ __typename }'), 1);
    assert.equal(depth('{ posts { items { id } } }'), 3);
    assert.equal(depth('{ posts { items { author { name } } page { limit } } }'), 4);
    assert.equal(depth('{ posts { ...P } } fragment P on PostPage { items { ... on Post { author { ...U } } } } fragment U on User { name }'), 4);
    assert.equal(depth('{ posts { items { __typename } } }'), 3, '__typename is a field');
  });

  test('an introspection root is one level, whatever is under it', () => {
    assert.equal(depth('{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }'), 1);
    assert.equal(depth('{ post(id: 1) { __typename } __type(name: "Post") { name } }'), 2);
  });

  test('a fragment cycle ends, and a fragment spread many times is measured once', () => {
    assert.equal(depth('{ post(id: 1) { ...A } } fragment A on Post { author { ...B } } fragment B on User { ...A name }'), 3);
    const spreads = Array.from({ length: 30 }, (_, i) => `fragment F${i} on Post { ${`...F${i + 1} `.repeat(30)} }`).join('\n');
    assert.equal(depth(`{ post(id: 1) { ...F0 } } ${spreads} fragment F30 on Post { id }`), 2);
  });
});

describe('aliases: aliased fields the operation runs', () => {
  test('counts every alias, fragments where they are spread', () => {
    assert.equal(aliases('{ posts { items { id } } }'), 0);
    assert.equal(aliases('{ a: post(id: 1) { t: title } b: post(id: 2) { title } }'), 3);
    assert.equal(aliases('{ a: post(id: 1) { ...F } b: post(id: 2) { ...F } } fragment F on Post { x: title y: body }'), 2 + 4);
  });

  test('a fragment cycle ends', () => {
    assert.equal(aliases('{ post(id: 1) { ...A } } fragment A on Post { a: id ...A }'), 1);
  });
});

describe('the rules: one error each, with the code and status in extensions', () => {
  const limits: GraphqlLimits = { maxDepth: 3, maxCost: 50, maxAliases: 1, maxOperations: 2, introspection: false };
  const errorsOf = (source: string, request = {}) =>
    validateDocument(schema, parse(source), limits, request).map((e) => ({ message: e.message, extensions: e.extensions }));

  test('a document within every bound has no error', () => {
    assert.deepEqual(errorsOf('{ posts(limit: 5) { items { id } } a: __typename }'), []);
  });

  test('each bound, exceeded, has its own error', () => {
    assert.deepEqual(errorsOf('{ post(id: 1) { author { name } comments { items { id } } } }'), [
      { message: 'the document nests fields 4 deep; at most 3', extensions: { code: 'KILN_GRAPHQL_TOO_DEEP', status: 400 } },
    ]);
    assert.deepEqual(errorsOf('{ a: post(id: 1) { id } b: post(id: 2) { id } }'), [
      { message: 'the document has 2 aliased fields; at most 1', extensions: { code: 'KILN_GRAPHQL_TOO_MANY_ALIASES', status: 400 } },
    ]);
    assert.deepEqual(errorsOf('{ posts(limit: 60) { items { id } } }'), [
      { message: 'the document costs 62; at most 50', extensions: { code: 'KILN_GRAPHQL_TOO_COSTLY', status: 400 } },
    ]);
    assert.deepEqual(errorsOf('query A { __typename } query B { __typename } query C { __typename }', { operationName: 'A' }), [
      {
        message: 'the document holds 3 operations; at most 2 (only the one named by operationName runs)',
        extensions: { code: 'KILN_GRAPHQL_TOO_MANY_OPERATIONS', status: 400 },
      },
    ]);
    assert.deepEqual(errorsOf('{ __schema { queryType { name } } }'), [
      {
        message: 'introspection is disabled on this server: "__schema" cannot be queried (get the schema from `kiln graphql`)',
        extensions: { code: 'KILN_GRAPHQL_INTROSPECTION_DISABLED', status: 400 },
      },
    ]);
  });

  test('the cost uses the variables of the request', () => {
    const source = 'query ($n: Int) { posts(limit: $n) { items { id } } }';
    assert.deepEqual(errorsOf(source, { variables: { n: 48 } }), []);
    assert.deepEqual(
      errorsOf(source, { variables: { n: 49 } }).map((e) => e.message),
      ['the document costs 51; at most 50'],
    );
  });

  test('only the operation that runs is measured, when operationName names one', () => {
    const source = 'query Small { __typename } query Big { posts(limit: 90) { items { id } } }';
    assert.deepEqual(errorsOf(source, { operationName: 'Small' }), []);
    assert.deepEqual(
      errorsOf(source, { operationName: 'Big' }).map((e) => e.message),
      ['the document costs 92; at most 50'],
    );
    assert.deepEqual(
      errorsOf(source).map((e) => e.message),
      ['the document costs 92; at most 50'],
      'no name: every operation',
    );
  });

  test('a cost beyond exact integers is stated as such', () => {
    const huge = parse('query ($n: Int) { posts(limit: $n) { items { comments(limit: $n) { items { id } } } } }');
    assert.deepEqual(
      validateDocument(schema, huge, { ...limits, maxDepth: 10 }, { variables: { n: 2_000_000_000 } }).map((e) => e.message),
      ['the document costs more than 9007199254740991; at most 50'],
    );
  });

  test('with introspection on, __schema passes and graphql-js still bounds what is under it', () => {
    const open = { ...limits, maxDepth: 10, introspection: true };
    assert.deepEqual(validateDocument(schema, parse('{ __schema { queryType { name } } }'), open), []);
    const nested = validateDocument(schema, parse('{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }'), open);
    assert.deepEqual(
      nested.map((e) => e.message),
      ['Maximum introspection depth exceeded'],
    );
  });
});

describe('introspection setting', () => {
  const settings = { graphqlMaxDepth: 10, graphqlMaxCost: 5000, graphqlMaxAliases: 30, graphqlMaxOperations: 5 };
  test('auto: on under kiln dev or outside production, off in production', () => {
    const auto = { ...settings, graphqlIntrospection: 'auto' };
    assert.equal(graphqlLimitsFrom(auto, false, { NODE_ENV: 'production' }).introspection, false);
    assert.equal(graphqlLimitsFrom(auto, true, { NODE_ENV: 'production' }).introspection, true);
    assert.equal(graphqlLimitsFrom(auto, false, {}).introspection, true);
    assert.equal(graphqlLimitsFrom({ ...settings, graphqlIntrospection: 'on' }, false, { NODE_ENV: 'production' }).introspection, true);
    assert.equal(graphqlLimitsFrom({ ...settings, graphqlIntrospection: 'off' }, true, {}).introspection, false);
  });
});
