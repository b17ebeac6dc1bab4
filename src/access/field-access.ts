/**
 * One caller's field rules (AccessPolicy.fields) as the core stages use them: a resolver from any
 * resource a call reaches (the resource itself, relation filters, includes at every depth) to what is
 * limited there, undefined where nothing is. Nothing is allocated for a model without field rules,
 * nor for open access, so their requests keep the path they had before field rules existed.
 */
import type { CompiledModel, CompiledResource } from '../core/compiled-model.js';
import type { Predicate } from '../core/predicate.js';
import type { Resource } from '../model/ir.js';
import type { AccessPolicy, FieldAccess } from '../pipeline/authorize.js';
import type { Principal } from '../pipeline/context.js';
import { ModelPolicy } from './policy.js';

/** The caller's limits on the fields of `resource`; undefined when every field is readable and writable. */
export type FieldsOf = (resource: Resource) => FieldAccess | undefined;

/** Fields shown on some rows only: each with the condition a row must meet to show it. */
export type ShownWhere = ReadonlyMap<string, Predicate>;

export const NO_FIELD_LIMITS: FieldsOf = () => undefined;

/** What a caller is shown of one resource's records, when it is less than every readable field. */
export interface FieldView {
  /** The readable fields this caller may read, in declaration order. */
  readonly columns: readonly string[];
  /** Among them, those shown on some rows only. */
  readonly shown?: ShownWhere;
}

/**
 * The resolver factory of a server: per caller, the FieldsOf of its requests. A model's own policy
 * is only asked about resources that declare field rules (CompiledResource.fieldRules); a policy
 * plugged in by the application is asked about every resource.
 */
export function fieldResolver(policy: AccessPolicy, compiled: CompiledModel): (principal: Principal) => FieldsOf {
  if (!policy.fields) return () => NO_FIELD_LIMITS;
  const fields = policy.fields.bind(policy);
  const own = policy instanceof ModelPolicy;
  if (own && !compiled.fieldRules) return () => NO_FIELD_LIMITS;
  return (principal) => {
    // A call asks about the same resource several times (validation, SQL, rows): the policy answers once.
    let answers: Map<string, FieldAccess | undefined> | undefined;
    return (resource) => {
      if (own && !compiled.of(resource).fieldRules) return undefined;
      answers ??= new Map();
      if (answers.has(resource.name)) return answers.get(resource.name);
      const access = limitedOnly(fields(principal, resource));
      answers.set(resource.name, access);
      return access;
    };
  };
}

function limitedOnly(access: FieldAccess): FieldAccess | undefined {
  return access.unreadable.size === 0 && access.conditional.size === 0 && access.unwritable.size === 0 ? undefined : access;
}

/** The readable fields of `r` the caller may read: the compiled list itself (same identity) when none is unreadable. */
export function readableFor(r: CompiledResource, access: FieldAccess | undefined): readonly string[] {
  if (!access || access.unreadable.size === 0) return r.readable;
  return r.readable.filter((name) => !access.unreadable.has(name));
}

/** The conditionally shown fields of `access`, undefined when there are none. */
export function shownWhere(access: FieldAccess | undefined): ShownWhere | undefined {
  return access && access.conditional.size > 0 ? access.conditional : undefined;
}

/** The caller's view of `r`'s records; undefined when it is every readable field. */
export function viewOf(r: CompiledResource, access: FieldAccess | undefined): FieldView | undefined {
  if (!access || (access.unreadable.size === 0 && access.conditional.size === 0)) return undefined;
  const shown = shownWhere(access);
  return { columns: readableFor(r, access), ...(shown && { shown }) };
}
