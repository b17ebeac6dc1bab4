/**
 * Which limit counts a call: the resource's entry for the operation, else the resource's `default`,
 * else KILN_RATE_LIMIT. Exactly one policy counts each call, and each policy is a budget of its own
 * per caller: `posts.create: 10/min` is 10 creates a minute besides what the other budgets allow.
 * Resolved once at start-up into a table, so a call only looks its policy up.
 */
import type { AccessOperation, Model, Resource } from '../model/ir.js';
import type { OperationName } from '../pipeline/rate-limit.js';
import type { Rate } from './rate.js';

export interface Policy {
  /** `default` for KILN_RATE_LIMIT, `posts` for a resource's `default`, `posts.create` for one operation. */
  readonly name: string;
  readonly rate: Rate;
}

/** The model's words for the operations every transport calls (those of access rules). */
export const MODEL_OPERATION: Readonly<Record<OperationName, AccessOperation>> = {
  list: 'list',
  get: 'read',
  create: 'create',
  createMany: 'create',
  update: 'update',
  replace: 'update',
  setLinks: 'update',
  remove: 'delete',
};

const OPERATION_NAMES = Object.keys(MODEL_OPERATION) as OperationName[];

export class PolicyTable {
  readonly #byResource = new Map<string, Readonly<Partial<Record<OperationName, Policy>>>>();
  readonly #policies = new Map<string, Policy>();

  /** `global`: KILN_RATE_LIMIT (null: `off`). */
  constructor(model: Model, global: Rate | null) {
    const fallback: Policy | undefined = global ? { name: 'default', rate: global } : undefined;
    for (const resource of model.resources) {
      const table: Partial<Record<OperationName, Policy>> = {};
      for (const operation of OPERATION_NAMES) {
        const policy = this.#resolve(resource, MODEL_OPERATION[operation], fallback);
        if (policy) table[operation] = policy;
      }
      this.#byResource.set(resource.name, table);
    }
  }

  /** The policy counting `operation` on `resource`; undefined when none limits it. */
  of(resource: string, operation: OperationName): Policy | undefined {
    return this.#byResource.get(resource)?.[operation];
  }

  /** Every policy some call is counted by, once each. */
  get all(): readonly Policy[] {
    return [...this.#policies.values()];
  }

  get empty(): boolean {
    return this.#policies.size === 0;
  }

  #resolve(resource: Resource, operation: AccessOperation, fallback: Policy | undefined): Policy | undefined {
    const own = resource.rateLimit;
    let policy: Policy | undefined;
    if (own && Object.hasOwn(own, operation)) policy = this.#named(`${resource.name}.${operation}`, own[operation] ?? null);
    else if (own && Object.hasOwn(own, 'default')) policy = this.#named(resource.name, own.default ?? null);
    else policy = fallback && this.#named(fallback.name, fallback.rate);
    return policy;
  }

  /** One Policy object per name, so every operation it counts shares its budget. */
  #named(name: string, rate: Rate | null): Policy | undefined {
    if (!rate) return undefined;
    let policy = this.#policies.get(name);
    if (!policy) {
      policy = Object.freeze({ name, rate });
      this.#policies.set(name, policy);
    }
    return policy;
  }
}
