import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileOrThrow } from '../../src/model/load.js';
import { documentOf } from './document-options.js';

const fields = { name: { type: 'string' } };
const model = compileOrThrow('words', {
  resources: {
    posts: { fields },
    orders: { fields },
    users: { fields },
    blogPosts: { fields },
    people: { singular: 'person', fields },
  },
});

const summariesOf = (doc: any, path: string) => {
  const base = `/v1/${path}`;
  return [
    doc.paths[base].get.summary,
    doc.paths[base].post.summary,
    doc.paths[`${base}/bulk`].post.summary,
    doc.paths[`${base}/{id}`].get.summary,
    doc.paths[`${base}/{id}`].patch.summary,
    doc.paths[`${base}/{id}`].put.summary,
    doc.paths[`${base}/{id}`].delete.summary,
  ];
};

describe('operation summaries are English sentences about one record or many', () => {
  const doc = documentOf(model);

  test('a post', () => {
    assert.deepEqual(summariesOf(doc, 'posts'), [
      'List posts',
      'Create a post',
      'Create many posts',
      'Get a post',
      'Update a post',
      'Replace a post',
      'Delete a post',
    ]);
  });

  test('"an" before a vowel sound, "a" before a u said "you"', () => {
    assert.deepEqual(summariesOf(doc, 'orders').slice(0, 4), ['List orders', 'Create an order', 'Create many orders', 'Get an order']);
    assert.equal(doc.paths['/v1/users/{id}'].delete.summary, 'Delete a user');
  });

  test('names of several words, and a singular the model declares', () => {
    assert.deepEqual(summariesOf(doc, 'blog-posts').slice(0, 4), ['List blog posts', 'Create a blog post', 'Create many blog posts', 'Get a blog post']);
    assert.deepEqual(summariesOf(doc, 'people').slice(0, 4), ['List people', 'Create a person', 'Create many people', 'Get a person']);
    assert.equal(doc.paths['/v1/people/{id}'].parameters[0].description, 'Id of the person.');
    assert.equal(doc.paths['/v1/blog-posts'].get.responses['200'].description, 'A page of blog posts.');
  });
});
