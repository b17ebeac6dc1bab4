/**
 * Stage "authorize": may the caller perform this action on this resource, and on which rows? A policy
 * answers with a decision; an action the caller may never perform is refused here with 403, before
 * any SQL runs, and the rows the caller may touch come back as a predicate that the SQL compiler ANDs
 * into every statement of the call (src/sql/predicate.ts): reads at every include depth, relation
 * filters, UPDATE and DELETE, link writes; creates and updates check it on the new row.
 * Kiln's rules declared in the model plug in here as a policy; until then every action is open.
 */
import { KilnError } from '../core/errors.js';
import { FALSE, type Predicate, TRUE } from '../core/predicate.js';
import type { AccessOperation, Resource } from '../model/ir.js';
import type { Principal, RequestContext } from './context.js';

export type Action = AccessOperation;

export type AccessDecision =
  /** `unauthenticated`: an anonymous caller who might be allowed once signed in (401 rather than 403). */
  | { readonly allowed: false; readonly detail?: string; readonly unauthenticated?: boolean }
  /** For list, read, update and delete, the rows the caller may act on; for create, the condition a new row must meet. */
  | { readonly allowed: true; readonly rows: Predicate };

/** What one caller may do with the fields of one resource, by its field rules. */
export interface FieldAccess {
  /** Never readable by this caller: absent from responses, and unknown to filters, sorts and selections. */
  readonly unreadable: ReadonlySet<string>;
  /** Readable on the rows where the predicate holds, absent elsewhere; never filtered or sorted by. */
  readonly conditional: ReadonlyMap<string, Predicate>;
  /** Not writable by this caller: a body that sets one is refused with 403 naming it. */
  readonly unwritable: ReadonlySet<string>;
}

export interface AccessPolicy {
  decide(principal: Principal, resource: Resource, action: Action): AccessDecision;
  /** Field rules; every field is readable and writable when absent. */
  fields?(principal: Principal, resource: Resource): FieldAccess;
}

const EVERY_ROW: AccessDecision = Object.freeze({ allowed: true, rows: TRUE });

/** Everything is allowed to everyone: the policy until access rules are declared. */
export const OPEN_ACCESS: AccessPolicy = Object.freeze({ decide: () => EVERY_ROW });

/** The rows `action` may touch, or 403 KILN_FORBIDDEN when the caller may not perform it at all. */
export function authorize(policy: AccessPolicy, ctx: RequestContext, resource: Resource, action: Action): Predicate {
  const decision = policy.decide(ctx.principal, resource, action);
  if (!decision.allowed) {
    const detail = decision.detail ?? `you may not ${action} ${resource.name}`;
    throw new KilnError(decision.unauthenticated ? 'KILN_UNAUTHENTICATED' : 'KILN_FORBIDDEN', { detail });
  }
  return decision.rows;
}

/**
 * The rows of a related resource the caller may read (includes, relation filters, link targets):
 * nothing at all when reading it is not allowed, so it reads as absent rather than failing.
 */
export function readableRows(policy: AccessPolicy, ctx: RequestContext, resource: Resource): Predicate {
  const decision = policy.decide(ctx.principal, resource, 'read');
  return decision.allowed ? decision.rows : FALSE;
}
