import { defineModel, defineResource, field } from 'kilnjs';
import { postHooks, publishPost } from './blog-extensions.js';

/**
 * The blog example: users write posts, readers comment, posts carry tags. Its access rules are the
 * publishing workflow of docs/how-to/access-rules.md: anyone reads what is published; people who sign
 * up write drafts and edit them until an editor publishes them; comments belong to whoever wrote them;
 * an email address is seen only by its owner; an admin does everything.
 */
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
  // Signing up makes an author: `authenticated` below. Roles are given by an admin (kiln accounts set-roles).
  roles: {
    editor: { description: "Publishes anyone's post, edits and deletes any post and comment, and manages the tags." },
    admin: { everything: true, description: 'Does everything, sees every field.' },
  },
  resources: {
    users: defineResource({
      description: 'People who write posts and comments.',
      // Accounts are created by signing up (or by an admin); people change their own name.
      access: { read: 'public', update: 'id == auth.id' },
      fields: {
        // The login: seen only by its owner (and admins), changed only by an admin.
        email: field.string({ format: 'email', maxLength: 254, unique: true, example: 'ada@example.com', read: 'id == auth.id', write: ['admin'] }),
        name: field.string({ minLength: 1, maxLength: 100, example: 'Ada Lovelace' }),
        posts: field.hasMany('posts'),
        comments: field.hasMany('comments'),
      },
    }),
    posts: defineResource({
      description: 'Blog posts.',
      access: {
        read: "status == 'published' || authorId == auth.id || auth.roles has 'editor'",
        create: 'authenticated',
        // Authors edit their own drafts; once published, a post is the editors' (status is theirs to write).
        update: "(authorId == auth.id && status == 'draft') || auth.roles has 'editor'",
        delete: "(authorId == auth.id && status == 'draft') || auth.roles has 'editor'",
      },
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
        status: field.enum(['draft', 'published'], { default: 'draft', index: true, write: ['editor'] }),
        author: field.belongsTo('users', { onDelete: 'cascade', default: 'auth.id' }),
        comments: field.hasMany('comments'),
        tags: field.manyToMany('tags'),
      },
      // An author's posts in the default order (by id): the index behind `authorId == auth.id` in the rules below.
      indexes: [{ fields: ['authorId', 'id'] }],
      hooks: postHooks,
    }),
    comments: defineResource({
      description: 'Comments on posts.',
      access: {
        // A comment is seen by whoever sees its post.
        read: "post.status == 'published' || post.authorId == auth.id || auth.roles has 'editor'",
        create: 'authenticated',
        update: 'authorId == auth.id',
        delete: "authorId == auth.id || auth.roles has 'editor'",
      },
      fields: {
        body: field.text({ minLength: 1, maxLength: 5000, example: 'Fascinating.' }),
        post: field.belongsTo('posts', { onDelete: 'cascade' }),
        author: field.belongsTo('users', { onDelete: 'cascade', default: 'auth.id' }),
      },
    }),
    tags: defineResource({
      description: 'Labels for posts.',
      access: { read: 'public', create: ['editor'], update: ['editor'], delete: ['editor'] },
      fields: {
        name: field.string({ minLength: 1, maxLength: 50, unique: true, example: 'history' }),
        posts: field.manyToMany('posts'),
      },
    }),
  },
  routes: [publishPost],
});
