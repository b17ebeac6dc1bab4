/**
 * Model declaration → frozen IR. The declaration is copied as plain data, checked completely (every
 * problem is reported, never just the first), then built and deep-frozen: the IR's lookup tables are
 * FrozenMaps, so no part of a compiled model can change after this returns.
 */
import { checkAccess, checkGivenRoles } from '../access/check-rules.js';
import { checkRouteTargets, separateExtensions } from '../extensions/check.js';
import { buildResource, tableOf } from './build-resource.js';
import { apiInfo, checkApi } from './check-api.js';
import { addAccountFields, checkAuth } from './check-auth.js';
import type { ModelView } from './check-relation.js';
import { checkResource } from './check-resource.js';
import { deepFreeze, FrozenMap } from './frozen-map.js';
import type { Model, Resource } from './ir.js';
import { planJoinTables } from './join-tables.js';
import { isPlainObject, toPlainData } from './plain-data.js';
import { type ModelProblem, ProblemList } from './problems.js';

export { RESERVED_FIELD_NAMES } from './check-field.js';

const TOP_LEVEL_KEYS: readonly string[] = ['resources', 'api', 'auth', 'roles'];

export type CompileResult = { ok: true; model: Model } | { ok: false; problems: readonly ModelProblem[] };

/** Validates a declaration and builds the frozen IR. Reports every problem, never just the first. */
export function compileModel(input: unknown): CompileResult {
  const problems = new ProblemList();
  // Hooks and routes are code, not data: taken out before the copy and the checks (src/extensions/check.ts).
  const { declaration, extensions, routeLabels } = separateExtensions(input, problems);
  const decl = toPlainData(declaration, '', problems);
  if (!isPlainObject(decl) || !isPlainObject(decl.resources)) {
    problems.add('resources', 'the model must have a "resources" object', 'declare { resources: { posts: { fields: { … } } } }');
    return { ok: false, problems: problems.items };
  }
  for (const key of Object.keys(decl)) {
    if (!TOP_LEVEL_KEYS.includes(key))
      problems.add(key, `unknown top-level key "${key}"`, `the model has only ${TOP_LEVEL_KEYS.map((k) => `"${k}"`).join(', ')}`);
  }
  checkApi(decl.api, problems);
  const model = decl as unknown as ModelView;
  const names = Object.keys(model.resources);
  if (names.length === 0) problems.add('resources', 'no resources are declared', 'declare at least one resource');
  for (const name of names) checkResource(model, name, problems);
  const auth = checkAuth(decl.auth, decl as never, problems);
  // The account resource is built with the fields Kiln manages, like any declared field.
  addAccountFields(decl as never, auth);
  const joins = planJoinTables(model, (resource) => tableOf(model, resource), problems);
  if (!problems.empty) return { ok: false, problems: problems.items };

  const resources = names.map((name) => buildResource(model, name, joins, problems));
  checkCollisions(resources, joins.joinTables, problems);
  if (extensions) checkRouteTargets(extensions.routes, routeLabels, new Map(resources.map((r) => [r.name, r.path])), problems);
  const access = checkAccess(decl, resources, auth?.accounts?.resource, problems);
  if (auth?.accounts) checkGivenRoles(auth.accounts.signup.roles, access, 'auth.accounts.signup.roles', problems);
  if (!problems.empty) return { ok: false, problems: problems.items };
  const compiled: Model = deepFreeze({
    api: apiInfo(decl.api),
    ...(auth && { auth }),
    ...(access && { access }),
    resources,
    resourcesByName: new FrozenMap(resources.map((r) => [r.name, r])),
    joinTables: [...joins.joinTables],
    ...(extensions && { extensions }),
  });
  return { ok: true, model: compiled };
}

/**
 * Names PostgreSQL keeps in one namespace per schema: tables, and the indexes behind primary keys,
 * unique constraints and indexes. Two of them with one name would fail at CREATE time.
 */
function checkCollisions(resources: readonly Resource[], joinTables: Model['joinTables'], problems: ProblemList): void {
  const seen = new Map<string, string>();
  for (const r of resources) {
    for (const [kind, value] of [
      ['table', r.table],
      ['path', r.path],
    ] as const) {
      const key = `${kind}:${value}`;
      const other = seen.get(key);
      if (other) problems.add(`resources.${r.name}`, `${kind} "${value}" is also used by resource "${other}"`, `set a different ${kind} on one of them`);
      seen.set(key, r.name);
    }
    for (const col of r.fields) {
      const clash = r.fields.find((other) => other !== col && other.column === col.column);
      if (clash && col.name < clash.name) {
        problems.add(
          `resources.${r.name}.fields.${col.name}`,
          `fields "${col.name}" and "${clash.name}" map to the same column "${col.column}"`,
          'rename one of them',
        );
      }
    }
  }
  for (const jt of joinTables) {
    const owner = seen.get(`table:${jt.name}`);
    if (owner)
      problems.add(
        `resources.${owner}`,
        `table "${jt.name}" is also the join table of a manyToMany relation`,
        'set through: "…" on the relation or rename the table',
      );
  }
  if (!problems.empty) return;
  const names = new Map<string, string>();
  const claim = (name: string, what: string, at: string) => {
    const other = names.get(name);
    if (other)
      problems.add(
        at,
        `the name "${name}" of ${what} is also the name of ${other}`,
        'PostgreSQL keeps table and index names in one namespace: give one of them another name',
      );
    else names.set(name, what);
  };
  for (const r of resources) claim(r.table, `table of ${r.name}`, `resources.${r.name}`);
  for (const jt of joinTables) claim(jt.name, 'a join table', `resources.${jt.left.resource}`);
  for (const r of resources) {
    claim(`${r.table}_pkey`, `the primary key of ${r.name}`, `resources.${r.name}`);
    for (const u of r.uniques) claim(u.name, `a unique constraint of ${r.name}`, `resources.${r.name}`);
    for (const ix of r.indexes) claim(ix.name, `an index of ${r.name}`, `resources.${r.name}`);
  }
  for (const jt of joinTables) {
    claim(`${jt.name}_pkey`, `the primary key of join table ${jt.name}`, `resources.${jt.left.resource}`);
    claim(`${jt.name}_${jt.right.column}_idx`, `an index of join table ${jt.name}`, `resources.${jt.left.resource}`);
  }
}
