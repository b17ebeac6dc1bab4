/**
 * Checks of one field: its name, its type, every option's value, and how the options fit together.
 * Relations are checked further in check-relation.ts; `default` and `example` in value-fit.ts.
 */

import { withArticle } from '../core/words.js';
import { checkRelation, type ModelView } from './check-relation.js';
import { CALLER_ID, CALLER_ID_TYPES, checkOptionNames, FIELD_TYPES, isFieldType, optionCheck } from './field-rules.js';
import { IDENTIFIER } from './naming.js';
import { shown } from './option-values.js';
import { patternProblem } from './pattern-safety.js';
import { isPlainObject } from './plain-data.js';
import type { ProblemList } from './problems.js';
import { type FieldView, valueProblem } from './value-fit.js';

/**
 * Field names that would collide with the list query grammar (`?limit=…`) or with fields Kiln adds.
 * Reserving them at load time is cheaper than a confusing 400 later.
 */
export const RESERVED_FIELD_NAMES = ['id', 'createdAt', 'updatedAt', 'sort', 'limit', 'cursor', 'fields', 'include', 'count'];

export function checkField(model: ModelView, resourceName: string, name: string, problems: ProblemList): void {
  const path = `resources.${resourceName}.fields.${name}`;
  const fields = model.resources[resourceName]?.fields as Record<string, unknown>;
  const field = fields[name];
  if (!IDENTIFIER.test(name)) problems.add(path, `"${name}" is not a valid field name`, 'use letters and digits, starting with a letter (camelCase)');
  if (RESERVED_FIELD_NAMES.includes(name)) problems.add(path, `"${name}" is a reserved name`, `rename it; reserved: ${RESERVED_FIELD_NAMES.join(', ')}`);
  if (!isPlainObject(field) || typeof field.type !== 'string') {
    problems.add(`${path}.type`, 'a field needs a "type"', `use one of: ${FIELD_TYPES.join(', ')}`);
    return;
  }
  if (!isFieldType(field.type)) {
    problems.add(`${path}.type`, `unknown type ${shown(field.type)}`, `use one of: ${FIELD_TYPES.join(', ')}`);
    return;
  }
  const type = field.type;
  const options = validOptions({ ...field, type }, path, problems);
  if (options.renamedFrom !== undefined && Object.hasOwn(fields, options.renamedFrom as string)) {
    problems.add(
      `${path}.renamedFrom`,
      `"${options.renamedFrom}" is still a name in this model, so it cannot be the previous name`,
      'remove renamedFrom, or fix the name',
    );
  }
  if (type === 'belongsTo' || type === 'hasMany' || type === 'manyToMany') {
    checkRelation(model, resourceName, name, type, options, problems);
    if (type === 'belongsTo' && Object.hasOwn(fields, `${name}Id`)) {
      problems.add(path, `the key field "${name}Id" this relation adds is already declared`, `remove the declared "${name}Id" field; belongsTo adds it`);
    }
    return;
  }
  checkScalar({ type, options, regex: safeRegex(options, path, problems) }, path, problems);
}

/** Reports unknown options and bad values; returns the options whose values are valid. */
function validOptions(field: Record<string, unknown> & { type: string }, path: string, problems: ProblemList): Record<string, unknown> {
  const valid: Record<string, unknown> = {};
  for (const option of checkOptionNames(field, path, problems)) {
    const value = field[option];
    if (option === 'type' || value === undefined) continue;
    const problem = optionCheck(field.type, option)?.(value, option);
    if (problem) problems.add(`${path}.${option}`, problem.message, problem.hint);
    else valid[option] = value;
  }
  return valid;
}

/** The compiled pattern, or undefined after reporting why it is invalid or unsafe. */
function safeRegex(options: Record<string, unknown>, path: string, problems: ProblemList): RegExp | undefined {
  const source = options.pattern;
  if (typeof source !== 'string') return undefined;
  let regex: RegExp;
  try {
    // The u flag, as request validation compiles it (Ajv's unicodeRegExp).
    regex = new RegExp(source, 'u');
  } catch {
    problems.add(`${path}.pattern`, `${shown(source)} is not a valid regular expression`, 'fix the expression (JavaScript syntax, unicode mode)');
    return undefined;
  }
  const unsafe = patternProblem(source, options.maxLength as number | undefined);
  if (unsafe) {
    problems.add(`${path}.pattern`, unsafe.message, unsafe.hint);
    return undefined;
  }
  return regex;
}

function checkScalar(field: FieldView, path: string, problems: ProblemList): void {
  const o = field.options;
  const has = (option: string) => o[option] !== undefined;
  if (has('minLength') && has('maxLength') && (o.minLength as number) > (o.maxLength as number)) {
    problems.add(`${path}.minLength`, `minLength ${o.minLength} is greater than maxLength ${o.maxLength}`, 'make minLength ≤ maxLength');
  }
  if (has('min') && has('max') && (o.min as number) > (o.max as number)) {
    problems.add(`${path}.min`, `min ${o.min} is greater than max ${o.max}`, 'make min ≤ max');
  }
  if (has('scale') && !has('precision')) problems.add(`${path}.scale`, 'scale needs precision', 'add precision, e.g. precision: 12, scale: 2');
  if (has('scale') && has('precision') && (o.scale as number) > (o.precision as number)) {
    problems.add(`${path}.scale`, `scale must be an integer from 0 to precision (${o.precision}), not ${o.scale}`, 'e.g. precision: 12, scale: 2');
  }
  if (o.default === CALLER_ID && !CALLER_ID_TYPES.includes(field.type)) {
    problems.add(
      `${path}.default`,
      `default: ${CALLER_ID} sets the field to the caller's id, which ${withArticle(`${field.type} field`)} cannot hold`,
      `give the field the type of the account id (${CALLER_ID_TYPES.join(', ')}), or use a belongsTo to the accounts`,
    );
  }
  for (const role of ['default', 'example'] as const) {
    if (!has(role) || (role === 'default' && o.default === CALLER_ID)) continue;
    const why = valueProblem(field, o[role], role);
    if (why)
      problems.add(`${path}.${role}`, `${role} ${shown(o[role])} does not fit ${withArticle(`${field.type} field`)}: ${why}`, `change the ${role} or the type`);
  }
  if (o.hidden === true && o.readOnly === true)
    problems.add(path, 'a field cannot be both hidden and readOnly: nobody could write or read it', 'drop one of the two');
  if (o.required === false && o.nullable !== true && !has('default')) {
    problems.add(path, 'an optional field needs a default or nullable: true, or rows would be stored without a value', 'add default: … or nullable: true');
  }
  if (o.readOnly === true && o.required === true) problems.add(path, 'a readOnly field cannot be required in a request body', 'drop required');
  if (o.readOnly === true && o.nullable !== true && !has('default')) {
    problems.add(path, 'a readOnly field is set by the server, so it needs a default or nullable: true', 'add default: … or nullable: true');
  }
}
