/**
 * The model and data of the field-rule suites: users whose email is readable by the account itself
 * (and auditors) and writable by admins only, a salary only auditors read, and posts with a note only
 * admins see, a reviewer key only admins read and an editor key readable by that editor alone.
 */
import type { Model } from '../../src/model/ir.js';
import { compileOrThrow } from '../../src/model/load.js';
import { as } from '../helpers/callers.js';
import type { TestServer } from '../helpers/server.js';

export function fieldRulesModel(): Model {
  return compileOrThrow('field rules test model', {
    auth: { accounts: { resource: 'users', login: 'email' } },
    roles: { admin: { everything: true }, moderator: {}, auditor: {} },
    resources: {
      users: {
        access: { read: 'public', create: 'public', update: "id == auth.id || auth.roles has 'moderator'" },
        fields: {
          email: { type: 'string', format: 'email', maxLength: 254, unique: true, read: "id == auth.id || auth.roles has 'auditor'", write: ['admin'] },
          name: { type: 'string', maxLength: 100 },
          nickname: { type: 'string', maxLength: 100, nullable: true },
          salary: { type: 'integer', nullable: true, read: ['auditor'], write: ['admin'] },
          posts: { type: 'hasMany', target: 'posts', inverse: 'author' },
          reviewed: { type: 'hasMany', target: 'posts', inverse: 'reviewer' },
          edited: { type: 'hasMany', target: 'posts', inverse: 'editor' },
        },
      },
      posts: {
        access: { read: 'public', create: 'authenticated', update: 'authorId == auth.id', delete: 'authorId == auth.id' },
        fields: {
          title: { type: 'string', maxLength: 200 },
          author: { type: 'belongsTo', target: 'users', default: 'auth.id' },
          secretNote: { type: 'string', nullable: true, read: ['admin'], write: ['admin'] },
          reviewer: { type: 'belongsTo', target: 'users', nullable: true, read: ['admin'] },
          editor: { type: 'belongsTo', target: 'users', nullable: true, read: 'editorId == auth.id' },
        },
      },
    },
  });
}

/** Who calls: nobody, Ada (the owner of the records under test), Bob (another account), an admin, an auditor, a moderator. */
export interface Cast {
  readonly ada: number;
  readonly bob: number;
  readonly admin: number;
  /** Ada's post, with a note, Bob as reviewer and Ada as editor. */
  readonly adaPost: number;
  /** Bob's post, with Bob as editor. */
  readonly bobPost: number;
}

export const ADMIN = (id: number) => as(id, ['admin']);

/** Creates the cast as an admin (who may write every field) and returns their ids. */
export async function seedCast(server: TestServer): Promise<Cast> {
  const post = async (path: string, json: unknown, headers: Record<string, string>) => {
    const res = await server.fetch(path, { method: 'POST', json, headers });
    if (res.status !== 201) throw new Error(`seeding ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()).data;
  };
  const root = ADMIN(1_000_000);
  const ada = await post('/v1/users', { email: 'ada@example.com', name: 'Ada', nickname: 'ada', salary: 5000 }, root);
  const bob = await post('/v1/users', { email: 'bob@example.com', name: 'Bob', salary: 4000 }, root);
  const admin = await post('/v1/users', { email: 'root@example.com', name: 'Root' }, root);
  const adaPost = await post('/v1/posts', { title: "Ada's", reviewerId: bob.id, editorId: ada.id }, as(ada.id));
  const noted = await server.fetch(`/v1/posts/${adaPost.id}`, { method: 'PATCH', json: { secretNote: 'note' }, headers: root });
  if (noted.status !== 200) throw new Error(`seeding the note: ${noted.status} ${await noted.text()}`);
  const bobPost = await post('/v1/posts', { title: "Bob's", editorId: bob.id }, as(bob.id));
  return { ada: ada.id, bob: bob.id, admin: admin.id, adaPost: adaPost.id, bobPost: bobPost.id };
}
