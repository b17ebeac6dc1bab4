/**
 * Telling a rename from a drop and an add. A snapshot only knows that `title` went away and
 * `headline` appeared; guessing wrong either loses the column's data or keeps a column that should
 * have gone, so Kiln never guesses: a rename is named in the model (`renamedFrom`), on the command
 * line (`--rename posts.title=headline`), or answered at a terminal prompt. Anything left open stops
 * generation with the list of open pairs, and so does a hint or flag that cannot apply or that
 * contradicts another (rename-hints.ts says why for each hint).
 */
import type { TableShape } from '../sql/ddl.js';
import { MigrateError } from './errors.js';
import { fieldHintProblem, NO_HINTS, newResourceProblem, type RenameHint, type RenameHints, resourceHintProblem } from './rename-hints.js';
import { dataFields, resourcesOf, type Snapshot } from './snapshot.js';

/** Every map goes from the new name to the old one. */
export interface RenameDecisions {
  readonly resources: ReadonlyMap<string, string>;
  /** Key `${newResource}.${newField}`. */
  readonly fields: ReadonlyMap<string, string>;
  /** Key `${newResource}.${newField}`; the inner map goes from the new enum value to the old one. */
  readonly values: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

export const NO_RENAMES: RenameDecisions = { resources: new Map(), fields: new Map(), values: new Map() };

/** Asks the person running the command; only at a terminal (prompt.ts). */
export interface Asker {
  /** A yes/no question; anything but yes is no. */
  confirm(question: string): Promise<boolean>;
  /** A question with a free-text answer, trimmed; '' when the person gives none. */
  text(question: string): Promise<string>;
}

export interface RenameInput {
  /** `renamedFrom` hints found in the model declaration. */
  readonly hints?: RenameHints;
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

/** Decides every rename between two snapshots, or throws AmbiguousRenamesError listing the open pairs. */
export async function resolveRenames(before: Snapshot, after: Snapshot, input: RenameInput = {}): Promise<RenameDecisions> {
  const hints = input.hints ?? NO_HINTS;
  const flags = parseFlags(input.flags ?? []);
  const open: Pair[] = [];
  /** Every spelling of --rename that names a candidate pair; any other flag is a typo. */
  const spellings = new Set<string>();
  const spell = (p: Pair, ...others: string[]) => {
    spellings.add(flagFor(p));
    for (const o of others) spellings.add(o);
    return p;
  };
  const flagged = (...spelled: string[]) => {
    const given = spelled.find((f) => flags.has(f));
    return given === undefined ? undefined : `--rename ${given}`;
  };
  /** Takes the pairs a hint or flag names (`chosenBy` says which), then asks about or reports the rest. */
  const decide = async (candidates: Pair[], chosenBy: (p: Pair) => string | undefined): Promise<Pair[]> => {
    const chosen: Chosen[] = [];
    for (const pair of candidates) {
      const by = chosenBy(pair);
      if (by === undefined) continue;
      const clash = chosen.find((c) => c.pair.from === pair.from || c.pair.to === pair.to);
      if (clash) throw conflictError(clash, { pair, by });
      chosen.push({ pair, by });
    }
    const decided = chosen.map((c) => c.pair);
    const taken = new Set(decided.map((p) => p.from));
    const given = new Set(decided.map((p) => p.to));
    const rest = candidates.filter((p) => !taken.has(p.from) && !given.has(p.to));
    if (input.noRenames || rest.length === 0) return decided;
    if (!input.ask) {
      open.push(...rest);
      return decided;
    }
    for (const p of rest) {
      if (taken.has(p.from) || given.has(p.to)) continue;
      if (await input.ask.confirm(question(p))) {
        decided.push(p);
        taken.add(p.from);
        given.add(p.to);
      }
    }
    return decided;
  };
  // The first migration has no history to rename from: hints left in the model (say, after
  // migrations were squashed) are old records, not requests.
  const firstMigration = before.tables.length === 0;

  const oldResources = resourcesOf(before);
  const newResources = resourcesOf(after);
  const removed = [...oldResources.keys()].filter((r) => !newResources.has(r));
  const added = [...newResources.keys()].filter((r) => !oldResources.has(r));
  if (!firstMigration) {
    const oldNames = new Set(oldResources.keys());
    const newNames = new Set(newResources.keys());
    hintError([...hints.resources].map(([name, hint]) => [hint, resourceHintProblem(name, hint, oldNames, newNames)]));
  }
  const resourcePairs = added.flatMap((to) => removed.map((from) => spell({ kind: 'resource', scope: '', from, to })));
  const resourceChosen = (p: Pair) => {
    const hint = hints.resources.get(p.to);
    return hint?.from === p.from ? hint.path : flagged(flagFor(p));
  };
  const resources = new Map<string, string>();
  for (const p of await decide(resourcePairs, resourceChosen)) resources.set(p.to, p.from);

  /** The resource's table in `before`, through renames; undefined for a new (or still undecided) one. */
  const oldTableOf = (name: string) => oldResources.get(resources.get(name) ?? name);
  if (!firstMigration) {
    const undecided = new Set(open.map((p) => p.to));
    hintError(
      [...hints.fields].map(([key, hint]) => {
        const [name = '', field = ''] = key.split('.');
        const old = oldTableOf(name);
        const now = newResources.get(name);
        if (undecided.has(name) || !now) return [hint, undefined];
        if (!old) return [hint, newResourceProblem(name)];
        return [hint, fieldHintProblem(field, hint, old, now)];
      }),
    );
  }

  const fields = new Map<string, string>();
  const values = new Map<string, Map<string, string>>();
  for (const [name, table] of newResources) {
    const old = oldTableOf(name);
    if (!old) continue;
    const oldName = old.resource as string;
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
          return spell(p, flagFor({ ...p, scope: oldName }), ...relationSpellings(p));
        }),
    );
    const fieldChosen = (p: Pair) => {
      const hint = hints.fields.get(`${name}.${p.to}`);
      return hint?.from === p.from ? hint.path : flagged(flagFor(p), flagFor({ ...p, scope: oldName }), ...relationSpellings(p));
    };
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
      const chosen = await decide(valuePairs, (p) => flagged(flagFor(p), flagFor({ ...p, scope: `${name}.${oldField}` })));
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

/** A pair a hint or flag named, and which one (`resources.posts.renamedFrom`, `--rename posts=articles`). */
interface Chosen {
  readonly pair: Pair;
  readonly by: string;
}

function conflictError(a: Chosen, b: Chosen): MigrateError {
  const why = a.pair.from === b.pair.from ? `"${a.pair.from}" can become only one name` : `only one name can become "${a.pair.to}"`;
  return new MigrateError(
    `two renames conflict: ${describe(a.pair)} (${a.by}) and ${describe(b.pair)} (${b.by}); ${why}. Keep the one you mean and remove the other.`,
  );
}

/** Stops generation on every hint that cannot apply, each with where it is and why. */
function hintError(checked: readonly (readonly [RenameHint, string | undefined])[]): void {
  const problems = checked.filter(([, why]) => why !== undefined).map(([hint, why]) => `  - ${hint.path} = "${hint.declared}": ${why}`);
  if (problems.length === 0) return;
  throw new MigrateError(
    `${problems.length === 1 ? 'a renamedFrom hint' : 'renamedFrom hints'} in the model cannot apply to this change; nothing was written:\n${problems.join('\n')}`,
  );
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
