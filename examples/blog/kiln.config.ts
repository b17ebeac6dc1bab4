import { defineModel, defineResource, field } from 'kilnjs';
import { postHooks, publishPost } from './blog-extensions.js';

/** The blog example: users write posts, readers comment, posts carry tags. */
export default defineModel({
  api: {
    title: 'Blog API',
    version: '1.0.0',
    description: 'The blog example: users write posts, readers comment, posts carry tags.',
    contact: { name: 'Blog team', email: 'blog@example.com' },
    license: { name: 'MIT', identifier: 'MIT' },
  },
  // users are the accounts: people sign up with their email and a password, and sign in.
  auth: {
    accounts: { resource: 'users', login: 'email', signup: { fields: ['name'] } },
  },
  resources: {
    users: defineResource({
      description: 'People who write posts and comments.',
      fields: {
        email: field.string({ format: 'email', maxLength: 254, unique: true, example: 'ada@example.com' }),
        name: field.string({ minLength: 1, maxLength: 100, example: 'Ada Lovelace' }),
        posts: field.hasMany('posts'),
        comments: field.hasMany('comments'),
      },
    }),
    posts: defineResource({
      description: 'Blog posts.',
      fields: {
        title: field.string({ minLength: 1, maxLength: 200, example: 'Notes on the Analytical Engine' }),
        slug: field.string({
          readOnly: true,
          nullable: true,
          unique: true,
          maxLength: 100,
          description: 'Computed from the title when the post is created.',
          example: 'notes-on-the-analytical-engine',
        }),
        body: field.text({ default: '', example: 'The engine weaves algebraic patterns…' }),
        status: field.enum(['draft', 'published'], { default: 'draft', index: true }),
        author: field.belongsTo('users', { onDelete: 'cascade' }),
        comments: field.hasMany('comments'),
        tags: field.manyToMany('tags'),
      },
      indexes: [{ fields: ['authorId', 'createdAt'] }],
      hooks: postHooks,
    }),
    comments: defineResource({
      description: 'Comments on posts.',
      fields: {
        body: field.text({ minLength: 1, maxLength: 5000, example: 'Fascinating.' }),
        post: field.belongsTo('posts', { onDelete: 'cascade' }),
        author: field.belongsTo('users', { onDelete: 'cascade' }),
      },
    }),
    tags: defineResource({
      description: 'Labels for posts.',
      fields: {
        name: field.string({ minLength: 1, maxLength: 50, unique: true, example: 'history' }),
        posts: field.manyToMany('posts'),
      },
    }),
  },
  routes: [publishPost],
});
