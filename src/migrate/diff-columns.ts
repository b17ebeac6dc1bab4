/** Column changes of a table in both snapshots: renames, drops, adds, type, default and NOT NULL. */
import { type ColumnShape, renderColumn } from '../sql/ddl.js';
import { ident } from '../sql/fragments.js';
import { castPlan } from './cast.js';
import { PHASES, type PlanBuilder, type TablePair } from './plan.js';

export function diffColumns(out: PlanBuilder, pair: TablePair): void {
  const { before, after, label } = pair;
  const table = ident(after.name);
  const kept = new Set(pair.columns.values());
  for (const [oldName, newName] of pair.columns) {
    if (oldName === newName) continue;
    const old = before.columns.find((c) => c.name === oldName) as ColumnShape;
    const neu = after.columns.find((c) => c.name === newName) as ColumnShape;
    out.add(PHASES.renames, {
      summary: after.resource ? `rename field ${label}.${old.field} → ${neu.field}` : `rename column ${label}.${oldName} → ${newName}`,
      sql: [`ALTER TABLE ${table} RENAME COLUMN ${ident(oldName)} TO ${ident(newName)}`],
    });
  }
  for (const column of before.columns) {
    if (pair.columns.has(column.name)) continue;
    out.add(PHASES.dropColumns, {
      summary: `drop field ${label}.${column.field}`,
      sql: [`ALTER TABLE ${table} DROP COLUMN ${ident(column.name)}`],
      destructive: `drops column ${after.name}.${column.name} and its data`,
    });
  }
  for (const column of after.columns) if (!kept.has(column.name)) addColumn(out, pair, column);
  for (const [oldName, newName] of pair.columns) {
    const old = before.columns.find((c) => c.name === oldName) as ColumnShape;
    const neu = after.columns.find((c) => c.name === newName) as ColumnShape;
    alterColumn(out, pair, old, neu);
  }
}

/** `--backfill posts.slug=…`; a belongsTo relation may be named by its relation (`posts.author`) or key field. */
function backfillFor(out: PlanBuilder, pair: TablePair, column: ColumnShape): string | undefined {
  const keys = [`${pair.label}.${column.field}`, ...(column.field.endsWith('Id') ? [`${pair.label}.${column.field.slice(0, -2)}`] : [])];
  for (const key of keys) {
    const expression = out.options.backfill?.get(key);
    if (expression !== undefined) {
      out.backfillsUsed.add(key);
      return expression;
    }
  }
  return undefined;
}

function addColumn(out: PlanBuilder, pair: TablePair, column: ColumnShape): void {
  const table = ident(pair.after.name);
  const where = `${pair.label}.${column.field}`;
  const backfill = backfillFor(out, pair, column);
  if (backfill !== undefined) {
    out.add(PHASES.columns, {
      summary: `add field ${where} (existing rows: ${backfill})`,
      sql: [
        `ALTER TABLE ${table} ADD COLUMN ${renderColumn({ ...column, nullable: true })}`,
        `UPDATE ${table} SET ${ident(column.name)} = ${backfill}`,
        ...(column.nullable ? [] : [`ALTER TABLE ${table} ALTER COLUMN ${ident(column.name)} SET NOT NULL`]),
      ],
    });
    return;
  }
  const needsValue = !column.nullable && column.default === undefined && !column.identity;
  const advice = out.options.down
    ? 'edit this step to add the column without NOT NULL, fill it with an UPDATE, then SET NOT NULL'
    : `give the field a default or pass --backfill ${where}=<SQL expression>`;
  out.add(PHASES.columns, {
    summary: `add field ${where}`,
    sql: [`ALTER TABLE ${table} ADD COLUMN ${renderColumn(column)}`],
    ...(needsValue
      ? {
          destructive: `fails if ${pair.after.name} has rows: ${where} is NOT NULL without a default; ${advice}`,
          ...(out.options.down ? {} : { needsValue: { field: where, table: pair.after.name, change: 'added' as const } }),
        }
      : {}),
  });
}

function alterColumn(out: PlanBuilder, pair: TablePair, old: ColumnShape, neu: ColumnShape): void {
  const table = ident(pair.after.name);
  const column = ident(neu.name);
  const alter = (what: string) => `ALTER TABLE ${table} ALTER COLUMN ${column} ${what}`;
  const where = `${pair.label}.${neu.field}`;
  const sql: string[] = [];
  const changes: string[] = [];
  const risks: string[] = [];
  let needsValue = false;
  const typeChanged = old.type !== neu.type;
  const cast = typeChanged ? castPlan(neu.name, old.type, neu.type) : undefined;
  if (cast?.kind === 'impossible' && !out.options.down) {
    out.refusals.push(
      `${where}: cannot change the type from ${old.type} to ${neu.type}: ${cast.why}. Keep the type, or replace the field in two steps ` +
        '(add a new field and copy the data in a migration you edit, then drop the old one; see docs/how-to/migrations.md).',
    );
    return;
  }
  if (cast) {
    // The old default may not convert to the new type; it is set again below.
    if (old.default !== undefined) sql.push(alter('DROP DEFAULT'));
    const using = cast.kind === 'impossible' ? `<your conversion of ${column}>` : cast.using;
    sql.push(alter(`TYPE ${neu.type}${using ? ` USING ${using}` : ''}`));
    changes.push(`type ${old.type} → ${neu.type}`);
    if (cast.kind === 'narrowing') risks.push(`narrows ${where} from ${old.type} to ${neu.type}: ${cast.risk}`);
  }
  if (old.default !== neu.default) changes.push(`default ${old.default ?? 'none'} → ${neu.default ?? 'none'}`);
  if (typeChanged) {
    if (neu.default !== undefined) sql.push(alter(`SET DEFAULT ${neu.default}`));
  } else if (old.default !== neu.default) {
    sql.push(neu.default !== undefined ? alter(`SET DEFAULT ${neu.default}`) : alter('DROP DEFAULT'));
  }
  if (old.nullable && !neu.nullable) {
    const backfill = backfillFor(out, pair, neu) ?? neu.default;
    if (backfill !== undefined) {
      changes.push(`NOT NULL (rows holding NULL get ${backfill})`);
      sql.push(`UPDATE ${table} SET ${column} = ${backfill} WHERE ${column} IS NULL`);
    } else {
      changes.push('NOT NULL');
      const advice = out.options.down ? 'set a value in such rows first' : `give the field a default or pass --backfill ${where}=<SQL expression>`;
      risks.push(`fails if a row of ${pair.after.name} holds NULL in ${neu.name}: ${advice}`);
      needsValue = !out.options.down;
    }
    sql.push(alter('SET NOT NULL'));
  } else if (!old.nullable && neu.nullable) {
    changes.push('nullable');
    sql.push(alter('DROP NOT NULL'));
  }
  if (sql.length === 0) return;
  const summary = `alter field ${where}: ${changes.join(', ')}`;
  if (cast?.kind === 'impossible') {
    // Only down.sql gets here (the reverse of e.g. boolean → double precision). Its other steps
    // stay; this one is left to a person, who knows what the values should become.
    out.add(PHASES.columns, {
      summary,
      sql: [],
      irreversible: cast.why,
      notes: ['Write the statements here, with a conversion you choose, for example:', ...sql.map((s) => `  ${s};`)],
    });
    return;
  }
  out.add(PHASES.columns, {
    summary,
    sql,
    ...(risks.length > 0 ? { destructive: risks.join('; ') } : {}),
    ...(needsValue ? { needsValue: { field: where, table: pair.after.name, change: 'required' as const } } : {}),
  });
}
