/**
 * A caller and an access rule for tests of the authorize stage, plugged in through the same extension
 * points the authentication and authorization features use: an authenticator that trusts an
 * `x-test-user` header (tests only), and a policy under which a post is visible to, and writable by,
 * its author alone.
 */
import { equals, FALSE, TRUE } from '../../src/core/predicate.js';
import type { Authenticator } from '../../src/pipeline/authenticate.js';
import type { AccessPolicy } from '../../src/pipeline/authorize.js';

export const testUserHeader: Authenticator = ({ headers }) => {
  const id = headers['x-test-user'];
  return typeof id === 'string' ? { kind: 'account', id: Number(id), roles: ['authenticated'] } : undefined;
};

/** Posts: only the author's own, for every action (a new post must name its creator as author). */
export const ownPostsOnly: AccessPolicy = {
  decide(principal, resource) {
    if (resource.name !== 'posts') return { allowed: true, rows: TRUE };
    return { allowed: true, rows: principal.id === null ? FALSE : equals('authorId', principal.id) };
  },
};

/** Users: anyone may sign up; each then sees only their own account (another's unique email stays unconfirmed). */
export const ownAccountOnly: AccessPolicy = {
  decide(principal, resource, action) {
    if (resource.name !== 'users' || action === 'create') return { allowed: true, rows: TRUE };
    return { allowed: true, rows: principal.id === null ? FALSE : equals('id', principal.id) };
  },
};
