/**
 * Telling a rename from a drop and an add. A snapshot only knows that `title` went away and
 * `headline` appeared; guessing wrong either loses the column's data or keeps a column that should
 * have gone, so Kiln never guesses: a rename is named in the model (`renamedFrom`), on the command
 * line (`--rename posts.title=headline`), or answered at a terminal prompt. Anything left open stops
 * generation with the list of open pairs.
 */
import type { TableShape } from '../sql/ddl.js';
import { MigrateError } from './errors.js';
import type { Snapshot } from './snapshot.js';

/** Every map goes from the new name to the old one. */
export interface RenameDecisions {
  readonly resources: ReadonlyMap<string, string>;
  /** Key `${newResource}.${newField}`. */
  readonly fields: ReadonlyMap<string, string>;
  /** Key `${newResource}.${newField}`; the inner map goes from the new enum value to the old one. */
  readonly values: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

export const NO_RENAMES: RenameDecisions = { resources: new Map(), fields: new Map(), values: new Map() };

/** Answers a yes/no question; at a terminal, the person running the command. */
export type Asker = (question: string) => Promise<boolean>;

export interface RenameInput {
  /** `renamedFrom` hints found in the model declaration. */
  readonly hints?: RenameDecisions;
  /** `--rename` flags: `posts=articles`, `posts.title=headline`, `posts.status:published=live`. */
  readonly flags?: readonly string[];
  /** Every open pair is a drop and an add. */
  readonly noRenames?: boolean;
  readonly ask?: Asker;
}

interface Pair {
  readonly kind: 'resource' | 'field' | 'enum value';
  /** Where: '' for resources, the resource for fields, `resource.field` for values. */
  readonly scope: string;
  readonly from: string;
  readonly to: string;
}

export class AmbiguousRenamesError extends MigrateError {
  constructor(readonly pairs: readonly Pair[]) {
    const lines = pairs.map((p) => `  - ${describe(p)}?   --rename ${flagFor(p)}`);
    super(
      `the model drops and adds names that may be renames, and Kiln will not guess:\n${lines.join('\n')}\n` +
        'Say which are renames with --rename (or renamedFrom: "…" in the model), or pass --no-renames if they are ' +
        'really a drop and an add. In a terminal, kiln migrate generate asks instead.',
    );
    this.name = 'AmbiguousRenamesError';
  }
}

function describe(p: Pair): string {
  if (p.kind === 'resource') return `resource ${p.from} → ${p.to}`;
  if (p.kind === 'field') return `field ${p.scope}.${p.from} → ${p.to}`;
  return `enum value ${p.scope} "${p.from}" → "${p.to}"`;
}

function flagFor(p: Pair): string {
  if (p.kind === 'resource') return `${p.from}=${p.to}`;
  if (p.kind === 'field') return `${p.scope}.${p.from}=${p.to}`;
  return `${p.scope}:${p.from}=${p.to}`;
}

function question(p: Pair): string {
  if (p.kind === 'resource') return `Was resource "${p.from}" renamed to "${p.to}"? (no: drop ${p.from} and create ${p.to})`;
  if (p.kind === 'field') return `${p.scope}: was field "${p.from}" renamed to "${p.to}"? (no: drop ${p.from} with its data and add ${p.to})`;
  return `${p.scope}: was enum value "${p.from}" renamed to "${p.to}"? (no: remove "${p.from}" and add "${p.to}")`;
}

/** `renamedFrom` options of a model declaration (the raw form, before compilation drops them). */
export function renameHints(declaration: unknown): RenameDecisions {
  const resources = new Map<string, string>();
  const fields = new Map<string, string>();
  const decl = declaration as { resources?: Record<string, { renamedFrom?: unknown; fields?: Record<string, { type?: unknown; renamedFrom?: unknown }> }> };
  for (const [name, resource] of Object.entries(decl?.resources ?? {})) {
    if (typeof resource?.renamedFrom === 'string') resources.set(name, resource.renamedFrom);
    for (const [fieldName, field] of Object.entries(resource?.fields ?? {})) {
      if (typeof field?.renamedFrom !== 'string') continue;
      // A belongsTo relation is stored as its key field, e.g. author → authorId.
      if (field.type === 'belongsTo') fields.set(`${name}.${fieldName}Id`, `${field.renamedFrom}Id`);
      else fields.set(`${name}.${fieldName}`, field.renamedFrom);
    }
  }
  return { resources, fields, values: new Map() };
}

const SYSTEM_FIELDS = ['id', 'createdAt', 'updatedAt'];

/** Decides every rename between two snapshots, or throws AmbiguousRenamesError listing the open pairs. */
export async function resolveRenames(before: Snapshot, after: Snapshot, input: RenameInput = {}): Promise<RenameDecisions> {
  const hints = input.hints ?? NO_RENAMES;
  const flags = parseFlags(input.flags ?? []);
  const open: Pair[] = [];
  /** Every spelling of --rename that names a candidate pair; any other flag is a typo. */
  const spellings = new Set<string>();
  const spell = (p: Pair, ...others: string[]) => {
    spellings.add(flagFor(p));
    for (const o of others) spellings.add(o);
    return p;
  };
  const decide = async (candidates: Pair[], chosen: (p: Pair) => boolean): Promise<Pair[]> => {
    const decided: Pair[] = [];
    const taken = new Set<string>();
    const given = new Set<string>();
    for (const p of candidates.filter(chosen)) {
      if (taken.has(p.from) || given.has(p.to)) continue;
      decided.push(p);
      taken.add(p.from);
      given.add(p.to);
    }
    const rest = candidates.filter((p) => !taken.has(p.from) && !given.has(p.to));
    if (input.noRenames || rest.length === 0) return decided;
    if (!input.ask) {
      open.push(...rest);
      return decided;
    }
    for (const p of rest) {
      if (taken.has(p.from) || given.has(p.to)) continue;
      if (await input.ask(question(p))) {
        decided.push(p);
        taken.add(p.from);
        given.add(p.to);
      }
    }
    return decided;
  };

  const oldResources = byResource(before);
  const newResources = byResource(after);
  const removed = [...oldResources.keys()].filter((r) => !newResources.has(r));
  const added = [...newResources.keys()].filter((r) => !oldResources.has(r));
  const resourcePairs = added.flatMap((to) => removed.map((from) => spell({ kind: 'resource', scope: '', from, to })));
  const resources = new Map<string, string>();
  for (const p of await decide(resourcePairs, (p) => hints.resources.get(p.to) === p.from || flags.has(flagFor(p)))) resources.set(p.to, p.from);

  const fields = new Map<string, string>();
  const values = new Map<string, Map<string, string>>();
  for (const [name, table] of newResources) {
    const oldName = resources.get(name) ?? (oldResources.has(name) ? name : undefined);
    const old = oldName === undefined ? undefined : oldResources.get(oldName);
    if (!old) continue;
    const oldFields = dataFields(old);
    const newFields = dataFields(table);
    const gone = [...oldFields.keys()].filter((f) => !newFields.has(f));
    const fresh = [...newFields.keys()].filter((f) => !oldFields.has(f));
    // A relation key renamed to a plain field (or back) is not a rename anyone means.
    const oldKeys = new Set(old.foreignKeys.map((fk) => fk.column));
    const newKeys = new Set(table.foreignKeys.map((fk) => fk.column));
    const fieldPairs = fresh.flatMap((to) =>
      gone
        .filter((from) => oldKeys.has(oldFields.get(from) ?? '') === newKeys.has(newFields.get(to) ?? ''))
        .map((from) => {
          const p: Pair = { kind: 'field', scope: name, from, to };
          return spell(p, flagFor({ ...p, scope: oldName ?? name }), ...relationSpellings(p));
        }),
    );
    const fieldChosen = (p: Pair) =>
      hints.fields.get(`${name}.${p.to}`) === p.from ||
      flags.has(flagFor(p)) ||
      flags.has(flagFor({ ...p, scope: oldName ?? name })) ||
      relationSpellings(p).some((s) => flags.has(s));
    for (const p of await decide(fieldPairs, fieldChosen)) fields.set(`${name}.${p.to}`, p.from);
    for (const [fieldName, column] of newFields) {
      const oldField = fields.get(`${name}.${fieldName}`) ?? fieldName;
      const oldValues = enumValues(old, oldFields.get(oldField));
      const newValues = enumValues(table, column);
      if (!oldValues || !newValues) continue;
      const scope = `${name}.${fieldName}`;
      const valuePairs = newValues
        .filter((v) => !oldValues.includes(v))
        .flatMap((to) =>
          oldValues
            .filter((v) => !newValues.includes(v))
            .map((from) => {
              const p: Pair = { kind: 'enum value', scope, from, to };
              return spell(p, flagFor({ ...p, scope: `${name}.${oldField}` }));
            }),
        );
      const chosen = await decide(valuePairs, (p) => flags.has(flagFor(p)) || flags.has(flagFor({ ...p, scope: `${name}.${oldField}` })));
      if (chosen.length > 0) values.set(scope, new Map(chosen.map((p) => [p.to, p.from])));
    }
  }
  const unknown = [...flags].find((f) => !spellings.has(f));
  if (unknown !== undefined) {
    throw new MigrateError(`--rename ${unknown}: the model has nothing that was dropped under the first name and added under the second`);
  }
  if (open.length > 0) throw new AmbiguousRenamesError(open);
  return { resources, fields, values };
}

function byResource(snapshot: Snapshot): Map<string, TableShape> {
  return new Map(snapshot.tables.filter((t) => t.resource !== undefined).map((t) => [t.resource as string, t]));
}

/** Field name → column name, without the columns Kiln adds itself. */
function dataFields(table: TableShape): Map<string, string> {
  return new Map(table.columns.filter((c) => !SYSTEM_FIELDS.includes(c.field)).map((c) => [c.field, c.name]));
}

function enumValues(table: TableShape, column: string | undefined): readonly string[] | undefined {
  return column === undefined ? undefined : table.checks.find((c) => c.column === column)?.values;
}

/** `--rename posts.writer=author` names the relation; its key field is writerId → authorId. */
function relationSpellings(p: Pair): string[] {
  if (!p.from.endsWith('Id') || !p.to.endsWith('Id')) return [];
  return [`${p.scope}.${p.from.slice(0, -2)}=${p.to.slice(0, -2)}`];
}

const FLAG = /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*(:[^=]+)?)?=[^=]+$/;

function parseFlags(flags: readonly string[]): Set<string> {
  for (const flag of flags) {
    if (!FLAG.test(flag)) {
      throw new MigrateError(`--rename ${flag}: expected resource=newName, resource.field=newName or resource.field:oldValue=newValue`);
    }
  }
  return new Set(flags);
}
