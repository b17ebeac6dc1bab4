import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildSchema, GraphQLError, Kind, parse, specifiedRules, type ValidationRule } from 'graphql';
import { DocumentCache } from '../../src/graphql/document-cache.js';
import { answerMediaType } from '../../src/graphql/fast-response.js';

const schema = buildSchema('type Query { posts(limit: Int): [String!]! }');

/** A rule of Kiln's kind (not one of graphql-js's specified rules) that counts its runs and refuses when told. */
function countingRule(refuse = false): { rule: ValidationRule; runs: () => number } {
  let runs = 0;
  const rule: ValidationRule = (context) => {
    runs++;
    return {
      enter(node) {
        if (refuse && node.kind === Kind.DOCUMENT) context.reportError(new GraphQLError('refused by the rule'));
      },
    };
  };
  return { rule, runs: () => runs };
}

describe('DocumentCache', () => {
  /** A cache whose parses are counted. */
  function counted(): { cache: DocumentCache; parses: () => number } {
    let parses = 0;
    const cache = new DocumentCache((source, options) => {
      parses++;
      return parse(source, options);
    });
    return { cache, parses: () => parses };
  }
  /** Parses and validates as the endpoint does: the document is kept once it validates. */
  const load = (cache: DocumentCache, text: string, rules: readonly ValidationRule[] = specifiedRules) => {
    const document = cache.parse(text);
    return { document, errors: cache.validate(schema, document, rules) };
  };

  test('keeps a document once it validated: the same text then gives the same document, unparsed', () => {
    const { cache, parses } = counted();
    const first = load(cache, '{ posts }');
    assert.deepEqual(first.errors, []);
    assert.equal(cache.parse('{ posts }'), first.document);
    assert.notEqual(cache.parse('{ posts(limit: 1) }'), first.document);
    assert.equal(parses(), 2);
  });

  test("a document that fails validation, by the specified rules or by Kiln's, is not kept", () => {
    const { cache, parses } = counted();
    for (let i = 0; i < 2; i++) assert.equal(load(cache, '{ nope }').errors.length, 1);
    const refusing = countingRule(true);
    for (let i = 0; i < 2; i++) assert.equal(load(cache, '{ posts }', [...specifiedRules, refusing.rule]).errors.length, 1);
    assert.equal(parses(), 4);
  });

  test('a text that does not parse throws every time', () => {
    const cache = new DocumentCache();
    for (let i = 0; i < 2; i++) assert.throws(() => cache.parse('{ posts'), { name: 'GraphQLError', message: /Syntax Error: Expected Name, found <EOF>/ });
  });

  test('keeps at most 256 documents, dropping the least recently used, and none longer than 4 KiB', () => {
    const { cache, parses } = counted();
    const first = load(cache, '{ posts(limit: 0) }').document;
    for (let i = 1; i <= 256; i++) load(cache, `{ posts(limit: ${i}) }`);
    const recent = cache.parse('{ posts(limit: 2) }');
    assert.equal(cache.parse('{ posts(limit: 2) }'), recent);
    assert.notEqual(cache.parse('{ posts(limit: 0) }'), first, 'the oldest was dropped');
    const long = `{ posts(limit: 1) ${' '.repeat(4096)}}`;
    load(cache, long);
    const before = parses();
    cache.parse(long);
    assert.equal(parses(), before + 1);
  });

  test("keeps the specified rules' verdict per document and runs the other rules every time", () => {
    const cache = new DocumentCache();
    const own = countingRule();
    for (let i = 0; i < 3; i++) assert.deepEqual(load(cache, '{ posts }', [...specifiedRules, own.rule]).errors, []);
    assert.equal(own.runs(), 3);
    const refusing = countingRule(true);
    assert.deepEqual(
      load(cache, '{ nope }', [...specifiedRules, refusing.rule]).errors.map((e) => e.message),
      ['Cannot query field "nope" on type "Query".', 'refused by the rule'],
    );
  });
});

describe('answerMediaType: the type graphql-http chose from Accept', () => {
  test('the first acceptable entry wins; no Accept is application/json', () => {
    assert.equal(answerMediaType(undefined), 'application/json; charset=utf-8');
    assert.equal(answerMediaType('application/graphql-response+json'), 'application/graphql-response+json; charset=utf-8');
    assert.equal(answerMediaType('application/json, application/graphql-response+json'), 'application/json; charset=utf-8');
    assert.equal(answerMediaType('text/html, application/graphql-response+json;charset=utf-8, */*'), 'application/graphql-response+json; charset=utf-8');
    assert.equal(answerMediaType('application/graphql-response+json; charset=latin1, */*'), 'application/json; charset=utf-8');
  });
});
