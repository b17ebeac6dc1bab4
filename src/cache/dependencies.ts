/**
 * Which resources a cached read depends on, and which resources a write changes: both known from the
 * model, so the response cache (response-cache.ts) keys each entry by the generations of what it read
 * and a write bumps the generations of what it changed.
 *
 * A read of `posts` depends on `posts`, on every resource its request includes or filters through,
 * and on every resource the read rules of those refer to (`author.team.members`, `exists(...)`),
 * transitively: a change to any of them can change the answer.
 *
 * A delete changes more than its own resource: ON DELETE CASCADE deletes rows elsewhere (and their
 * own cascades), ON DELETE SET NULL updates rows elsewhere, and the link rows of manyToMany relations
 * go with the record. A link change (setLinks, links in a body) changes both ends.
 */
import type { ChangeType } from '../events/bus.js';
import type { AccessModel, Condition, Model, Relation, Resource, Rule } from '../model/ir.js';
import type { FilterArg, IncludeArg, ListArgs } from '../pipeline/parse.js';

export class CacheDependencies {
  readonly #model: Model;
  /** By resource: itself and every resource its read rules refer to, transitively. */
  readonly #ruleClosure = new Map<string, readonly string[]>();
  /** By resource: what a delete of one of its records changes. */
  readonly #deleted = new Map<string, readonly string[]>();
  /** By resource: what a create or update of one of its records changes (itself, and the targets of its links). */
  readonly #written = new Map<string, readonly string[]>();
  /** Whether any read rule compares a field with the caller's id (`authorId == auth.id`). */
  readonly readsCallerId: boolean;

  constructor(model: Model) {
    this.#model = model;
    const direct = new Map<string, Set<string>>();
    let readsCallerId = false;
    for (const resource of model.resources) {
      const found = new Set<string>();
      for (const rule of readRules(model.access, resource.name)) {
        if (rule.kind === 'condition') readsCallerId = visit(model, resource, rule.condition, found) || readsCallerId;
      }
      direct.set(resource.name, found);
    }
    this.readsCallerId = readsCallerId;
    for (const resource of model.resources) {
      this.#ruleClosure.set(resource.name, [...closure(resource.name, (name) => direct.get(name) ?? [])].sort());
      this.#deleted.set(resource.name, [...this.#deleteReach(resource.name)].sort());
      this.#written.set(resource.name, [resource.name, ...linkTargets(resource)].filter(unique).sort());
    }
  }

  /** The resources a read of `resource` with these arguments depends on, sorted. */
  ofRead(resource: string, args: ListArgs | undefined): readonly string[] {
    const base = this.#ruleClosure.get(resource) ?? [resource];
    if (!args || (!args.include && !args.filters && !args.sort)) return base;
    const reached = new Set<string>([resource]);
    const start = this.#model.resourcesByName.get(resource);
    if (start) {
      this.#throughFilters(start, args.filters, reached);
      this.#throughSort(start, args.sort, reached);
      this.#throughIncludes(start, args.include, reached);
    }
    const all = new Set<string>();
    for (const name of reached) for (const dependency of this.#ruleClosure.get(name) ?? [name]) all.add(dependency);
    return [...all].sort();
  }

  /** The resources whose rows a committed write of `type` to `resource` may have changed. */
  changedBy(resource: string, type: ChangeType): readonly string[] {
    const table = type === 'deleted' ? this.#deleted : this.#written;
    return table.get(resource) ?? [resource];
  }

  #deleteReach(name: string): Set<string> {
    const reached = new Set<string>([name]);
    const deleted = [name];
    for (let next = deleted.pop(); next !== undefined; next = deleted.pop()) {
      const gone = next;
      for (const other of this.#model.resources) {
        for (const relation of other.relations) {
          if (relation.kind !== 'belongsTo' || relation.target !== gone || relation.onDelete === 'restrict') continue;
          // SET NULL changes the rows; CASCADE deletes them, and their own dependants in turn.
          if (relation.onDelete === 'cascade' && !reached.has(other.name)) deleted.push(other.name);
          reached.add(other.name);
        }
      }
      // The link rows of a deleted record go with it (the join table's keys cascade): both ends change.
      const resource = this.#model.resourcesByName.get(gone);
      if (resource) for (const target of linkTargets(resource)) reached.add(target);
    }
    return reached;
  }

  #throughFilters(start: Resource, filters: readonly FilterArg[] | undefined, reached: Set<string>): void {
    for (const filter of filters ?? []) this.#walk(start, filter.path.slice(0, -1), reached);
  }

  #throughSort(start: Resource, sort: readonly string[] | undefined, reached: Set<string>): void {
    for (const key of sort ?? []) this.#walk(start, key.replace(/^-/, '').split('.').slice(0, -1), reached);
  }

  #throughIncludes(from: Resource, includes: readonly IncludeArg[] | undefined, reached: Set<string>): void {
    for (const include of includes ?? []) {
      const target = this.#walk(from, [include.relation], reached);
      if (!target) continue;
      this.#throughFilters(target, include.filters, reached);
      this.#throughSort(target, include.sort, reached);
      this.#throughIncludes(target, include.include, reached);
    }
  }

  /** Follows relation names from `from`; an unknown name stops the walk (validation refuses the request anyway). */
  #walk(from: Resource, names: readonly string[], reached: Set<string>): Resource | undefined {
    let at: Resource | undefined = from;
    for (const name of names) {
      const relation = at?.relationsByName.get(name);
      if (!relation) return undefined;
      at = this.#model.resourcesByName.get(relation.target);
      reached.add(relation.target);
    }
    return at;
  }
}

/** The rules that decide what a read of `resource` returns: list, read, and the read rules of its fields. */
function readRules(access: AccessModel | undefined, resource: string): Rule[] {
  const rules = access?.resources.get(resource);
  if (!rules) return [];
  const found: Rule[] = [];
  if (rules.operations.list) found.push(rules.operations.list);
  if (rules.operations.read) found.push(rules.operations.read);
  for (const field of rules.fields.values()) if (field.read) found.push(field.read);
  return found;
}

/** Adds the resources `condition` reaches from `resource` to `found`; answers whether it reads the caller's id. */
function visit(model: Model, resource: Resource, condition: Condition, found: Set<string>): boolean {
  switch (condition.kind) {
    case 'and':
    case 'or':
      return condition.items.map((item) => visit(model, resource, item, found)).some(Boolean);
    case 'not':
      return visit(model, resource, condition.item, found);
    case 'exists': {
      const relation = resource.relationsByName.get(condition.relation);
      const target = relation && model.resourcesByName.get(relation.target);
      if (!target) return false;
      found.add(target.name);
      return visit(model, target, condition.where, found);
    }
    case 'field': {
      let at: Resource | undefined = resource;
      for (const name of condition.through) {
        const relation: Relation | undefined = at?.relationsByName.get(name);
        at = relation && model.resourcesByName.get(relation.target);
        if (at) found.add(at.name);
      }
      return condition.value.kind === 'authId';
    }
    default:
      return false;
  }
}

function closure(start: string, next: (name: string) => Iterable<string>): Set<string> {
  const reached = new Set<string>([start]);
  const pending = [start];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    for (const other of next(name)) {
      if (reached.has(other)) continue;
      reached.add(other);
      pending.push(other);
    }
  }
  return reached;
}

function linkTargets(resource: Resource): string[] {
  return resource.relations.filter((relation) => relation.kind === 'manyToMany').map((relation) => relation.target);
}

function unique<T>(value: T, index: number, all: readonly T[]): boolean {
  return all.indexOf(value) === index;
}
