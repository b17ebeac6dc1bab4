/**
 * The effective access table for people: `kiln check` and the start banner print it as text (here, so
 * both print the same thing), the OpenAPI document and /docs state each operation's row
 * (src/openapi/access.ts). The table itself is the policy's (ModelPolicy.table()).
 */
import type { AccessModel, Model } from '../model/ir.js';
import { type AccessTable, type AccessTableRow, ModelPolicy, type Reach } from './policy.js';

/** Where a reader learns to declare rules; named by every "open to everyone" warning. */
export const ACCESS_RULES_DOC = 'docs/reference/access-rules.md';

/**
 * The access table of a model with rules; undefined for a model that declares none (open to everyone).
 * A create that sets a required field to the caller's id (`default: auth.id`) answers an anonymous
 * caller 401 whatever its rule says, so anonymous reaches nothing there.
 */
export function accessTableOf(model: Model): AccessTable | undefined {
  if (!model.access) return undefined;
  const table = new ModelPolicy(model, model.access).table();
  const rows = table.rows.map((row): AccessTableRow => {
    if (row.operation !== 'create' || row.reach.anonymous === 'none') return row;
    const resource = model.resourcesByName.get(row.resource);
    const needsId = resource?.fields.some((f) => f.fromCaller === 'id' && !f.nullable);
    return needsId ? { ...row, reach: { ...row.reach, anonymous: 'none' } } : row;
  });
  return { roles: table.roles, rows };
}

/** The loud lines of a model without rules. */
export function openAccessLines(): string[] {
  return [
    'OPEN: the model declares no access rules, so anyone, anonymous callers included, may list, read, create, update and delete every resource',
    `declare roles and rules to limit it: see ${ACCESS_RULES_DOC}`,
  ];
}

/** Each declared role with what it inherits, whether it is granted everything, and its description. */
export function roleLines(access: AccessModel): string[] {
  if (access.roles.size === 0) return ['no roles declared: only the built-in anonymous and authenticated'];
  const width = Math.max(...[...access.roles.keys()].map((name) => name.length));
  return [...access.roles.values()].map((role) => {
    const traits = [
      role.everything && 'everything (every operation, every row, every field)',
      role.inherits.length > 0 && `inherits ${role.inherits.join(', ')}`,
      role.description,
    ].filter(Boolean);
    return traits.length > 0 ? `${role.name.padEnd(width)}  ${traits.join('; ')}` : role.name;
  });
}

/** The roles on one line: `author, editor (inherits author), admin (everything)`. */
export function rolesSummary(access: AccessModel): string {
  if (access.roles.size === 0) return 'no roles declared';
  const roles = [...access.roles.values()].map((role) => {
    const traits = [role.everything && 'everything', role.inherits.length > 0 && `inherits ${role.inherits.join(', ')}`].filter(Boolean);
    return traits.length > 0 ? `${role.name} (${traits.join('; ')})` : role.name;
  });
  return `roles ${roles.join(', ')}`;
}

const CELL: Readonly<Record<Reach, string>> = { all: 'all', rows: 'rows', none: '—' };

/** What a cell means, under the table. */
export const LEGEND = 'all: every record · rows: the records its rule matches · —: refused · (no rule): refused to all but roles granted everything';

/**
 * The table in columns: one row per resource.operation, one column per role, then the rule as declared
 * (`(no rule)` when none is). Lines carry no indentation and no trailing spaces.
 */
export function tableLines(table: AccessTable): string[] {
  const header = ['operation', ...table.roles, 'rule'];
  const rows = table.rows.map((row) => [
    `${row.resource}.${row.operation}`,
    ...table.roles.map((role) => CELL[row.reach[role] ?? 'none']),
    row.rule ?? '(no rule)',
  ]);
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((cells) => (cells[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line), LEGEND];
}
