import type { AnyRoute } from '../../src/extensions/types.js';

/** GET /whoami: the caller as the operations see it (kind, id, roles), for a signed-in caller only. */
export const WHOAMI: AnyRoute = {
  method: 'GET',
  path: '/whoami',
  authenticated: true,
  response: {
    type: 'object',
    properties: { kind: { type: 'string' }, id: { type: 'string' }, roles: { type: 'array', items: { type: 'string' } } },
    required: ['kind', 'id', 'roles'],
  },
  handler: ({ ctx }) => ({ kind: ctx.principal.kind, id: String(ctx.principal.id), roles: ctx.principal.roles }),
};
