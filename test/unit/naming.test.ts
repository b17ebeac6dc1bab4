import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileOrThrow } from '../../src/model/load.js';
import { singularPhrase } from '../../src/model/naming.js';

describe('singularPhrase', () => {
  test('makes the last word of a resource name singular, in words', () => {
    const cases: Record<string, string> = {
      posts: 'post',
      blogPosts: 'blog post',
      categories: 'category',
      addresses: 'address',
      boxes: 'box',
      batches: 'batch',
      status: 'status',
      analysis: 'analysis',
      days: 'day',
    };
    for (const [name, singular] of Object.entries(cases)) assert.equal(singularPhrase(name), singular, name);
  });

  test('the model can override it', () => {
    const model = compileOrThrow('test', {
      resources: { people: { singular: 'person', fields: { name: { type: 'string' } } }, blogPosts: { fields: { title: { type: 'string' } } } },
    });
    assert.equal(model.resourcesByName.get('people')?.singular, 'person');
    assert.equal(model.resourcesByName.get('blogPosts')?.singular, 'blog post');
  });

  test('singular must be a string', () => {
    assert.throws(
      () => compileOrThrow('test', { resources: { people: { singular: 3, fields: { name: { type: 'string' } } } } }),
      /resources\.people\.singular: singular must be a string, not 3/,
    );
  });
});
