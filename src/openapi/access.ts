/**
 * What each generated operation requires, from the model's access rules (the effective access table,
 * src/access/access-table.ts): the `x-kiln-access` extension (docs/reference/openapi.md), a security
 * requirement that agrees with it, 401 and 403 only where the rules can answer them, and an "Access"
 * part of the description, which /docs shows under the operation.
 *
 * A model without rules gets none of it: its operations stay open to anyone, as they are.
 */
import { accessTableOf } from '../access/access-table.js';
import { type AccessTableRow, ModelPolicy, type Reach } from '../access/policy.js';
import type { ErrorCode } from '../core/errors.js';
import type { JsonSchema } from '../core/schemas.js';
import type { AccessOperation, Model, Resource } from '../model/ir.js';
import { ANONYMOUS, type Principal } from '../pipeline/context.js';
import { ANY_ROUTE, type ErrorResponses } from './responses.js';
import { securityRequirement } from './security.js';
import { pluralPhrase } from './wording.js';

export type OperationErrors = Pick<ErrorResponses, 'for'>;

/** One generated operation as its access shapes it. */
export interface OperationAccess {
  /** The operation's error responses, with the 401 and 403 its access can answer. */
  readonly errors: OperationErrors;
  /** Writes the security requirement, `x-kiln-access` and the Access description into the operation. */
  decorate(operation: JsonSchema): JsonSchema;
}

/** The `x-kiln-access` of an operation: the rule as declared (absent when none is), and what each role reaches. */
export interface AccessExtension {
  readonly operation: AccessOperation;
  readonly rule?: string;
  readonly roles: Readonly<Record<string, Reach>>;
}

export const ACCESS_EXTENSION = 'x-kiln-access';

export class DocumentAccess {
  readonly #model: Model;
  readonly #schemes: Readonly<Record<string, JsonSchema>> | undefined;
  readonly #errors: ErrorResponses;
  readonly #rows = new Map<string, AccessTableRow>();
  readonly #policy: ModelPolicy | undefined;

  /** `schemes`: the document's security schemes, when it declares any. */
  constructor(model: Model, schemes: Readonly<Record<string, JsonSchema>> | undefined, errors: ErrorResponses) {
    this.#model = model;
    this.#schemes = schemes;
    this.#errors = errors;
    for (const row of accessTableOf(model)?.rows ?? []) this.#rows.set(`${row.resource}.${row.operation}`, row);
    this.#policy = model.access && new ModelPolicy(model, model.access);
  }

  of(resource: Resource, operation: AccessOperation): OperationAccess {
    const row = this.#rows.get(`${resource.name}.${operation}`);
    const codes: ErrorCode[] = [];
    // With schemes, a credential sent to any operation is checked, and a bad one is a 401.
    if (this.#schemes || (row && asksToSignIn(row))) codes.push('KILN_UNAUTHENTICATED');
    if (row && this.#mayForbid(resource, row)) codes.push('KILN_FORBIDDEN');
    const errors: OperationErrors = { for: (own, always = ANY_ROUTE) => this.#errors.for([...own, ...codes], always) };
    const schemes = this.#schemes;
    return {
      errors,
      decorate: (op) => {
        if (schemes) op.security = securityRequirement(schemes, row?.reach.anonymous !== 'none' ? 'anyone' : 'signed-in');
        if (!row) return op;
        const extension: AccessExtension = { operation, ...(row.rule !== undefined && { rule: row.rule }), roles: { ...row.reach } };
        op[ACCESS_EXTENSION] = extension;
        // First, so /docs shows who may call the operation before the details of calling it.
        op.description = [accessDescription(resource, row), op.description].filter(Boolean).join('\n\n');
        return op;
      },
    };
  }

  /** Whether some caller can be answered 403 by this operation's rules. */
  #mayForbid(resource: Resource, row: AccessTableRow): boolean {
    const reach = Object.entries(row.reach);
    // A signed-in role the rule refuses (every role but those granted everything, when there is no
    // rule). An anonymous caller is refused with 403 only when no signed-in role may act: then the
    // plain `authenticated` caller is refused too.
    if (reach.some(([role, r]) => role !== 'anonymous' && r === 'none')) return true;
    if (row.operation !== 'create' && row.operation !== 'update') return false;
    // The new row is checked against a row rule, inside the transaction.
    if (reach.some(([, r]) => r === 'rows')) return true;
    // A body that sets a field the caller may not write.
    if (reach.some(([role, r]) => r !== 'none' && (this.#policy?.fields(principalOf(role), resource).unwritable.size ?? 0) > 0)) return true;
    // `default: auth.id` of an id-typed key, given an external identity whose subject is no such id.
    return (
      row.operation === 'create' &&
      (this.#model.auth?.bearer.length ?? 0) > 0 &&
      resource.fields.some((f) => f.fromCaller === 'id' && (f.type === 'bigint' || f.type === 'uuid'))
    );
  }
}

/** An anonymous caller refused where some signed-in role may act (a role granted everything included) is asked to sign in: 401, not 403. */
function asksToSignIn(row: AccessTableRow): boolean {
  return row.reach.anonymous === 'none' && Object.entries(row.reach).some(([role, reach]) => role !== 'anonymous' && reach !== 'none');
}

function principalOf(role: string): Principal {
  return role === 'anonymous' ? ANONYMOUS : { kind: 'account', id: null, roles: ['authenticated', role] };
}

/**
 * The Access part of an operation's description, in Markdown:
 * "**Access** (rule `authorId == auth.id`)", then who reaches any record, who only the records the rule
 * matches, and who is refused.
 */
export function accessDescription(resource: Resource, row: AccessTableRow): string {
  const groups: [string, Reach][] = [
    [`any ${resource.singular}`, 'all'],
    [`only ${pluralPhrase(resource)} the rule matches`, 'rows'],
    ['refused', 'none'],
  ];
  const lines = groups.flatMap(([label, reach]) => {
    const roles = Object.keys(row.reach).filter((role) => row.reach[role] === reach);
    return roles.length > 0 ? [`- ${label}: ${roles.join(', ')}`] : [];
  });
  const head = row.rule === undefined ? '**Access** (no rule: only roles granted everything)' : `**Access** (rule ${code(row.rule)})`;
  return [`${head}:`, ...lines].join('\n');
}

/** Inline Markdown code that holds any text, backticks included. */
function code(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return longest > 0 ? `${fence} ${text} ${fence}` : `${fence}${text}${fence}`;
}
