/**
 * The bounds a GraphQL document must keep before it runs (OWASP API4, unrestricted resource
 * consumption): how deep it nests, what it costs, how many aliases and operations it holds, and
 * whether it may introspect the schema. Each is a validation rule, run with graphql-js's own rules
 * after parsing and before execution, so a refused document never reaches a resolver or the database.
 * HTTP (src/graphql/endpoint.ts) and subscriptions apply the same rules through `limitRules` and
 * `validateDocument`. docs/how-to/graphql-in-production.md explains the bounds and their defaults.
 */
import {
  type ASTNode,
  type DocumentNode,
  type FieldNode,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  specifiedRules,
  type ValidationRule,
  validate,
} from 'graphql';
import type { Settings } from '../config/settings.js';
import { ERRORS, KilnError } from '../core/errors.js';
import { operationCost, type Variables } from './cost.js';
import { fragmentsOf, introspectionFields, operationAliases, operationDepth, operationsToMeasure } from './operation-shape.js';

export interface GraphqlLimits {
  readonly maxDepth: number;
  readonly maxCost: number;
  readonly maxAliases: number;
  readonly maxOperations: number;
  /** Whether `__schema` and `__type` may be queried (`__typename` always may). */
  readonly introspection: boolean;
}

export type GraphqlLimitSettings = Pick<Settings, 'graphqlMaxDepth' | 'graphqlMaxCost' | 'graphqlMaxAliases' | 'graphqlMaxOperations' | 'graphqlIntrospection'>;

/**
 * The limits of the settings. Introspection `auto` is on under `kiln dev` and whenever NODE_ENV is
 * not `production`: a production server does not hand out a map of its API, a developer's does.
 */
export function graphqlLimitsFrom(settings: GraphqlLimitSettings, dev: boolean, env: NodeJS.ProcessEnv = process.env): GraphqlLimits {
  const mode = settings.graphqlIntrospection;
  return {
    maxDepth: settings.graphqlMaxDepth,
    maxCost: settings.graphqlMaxCost,
    maxAliases: settings.graphqlMaxAliases,
    maxOperations: settings.graphqlMaxOperations,
    introspection: mode === 'on' || (mode === 'auto' && (dev || env.NODE_ENV !== 'production')),
  };
}

/** What the rules need of the request besides the document: the cost depends on the variables. */
export interface RequestToMeasure {
  readonly variables?: Variables;
  /** The operation that runs; without it every operation of the document is measured. */
  readonly operationName?: string | null;
}

/**
 * A validation rule that judges a whole document at once. graphql-js's validate walks every node of
 * the document with type information for any rule it runs, which cost more than executing a page of
 * 20 posts once the executor was compiled (docs/explanation/benchmark.md): a caller that knows this
 * kind (the document cache) calls `judge` directly instead.
 */
export interface WholeDocumentRule extends ValidationRule {
  readonly judge: (schema: GraphQLSchema, document: DocumentNode) => readonly GraphQLError[];
}

export function isWholeDocumentRule(rule: ValidationRule): rule is WholeDocumentRule {
  return typeof (rule as Partial<WholeDocumentRule>).judge === 'function';
}

/** Kiln's rule for one request, to run with graphql-js's `specifiedRules` (or judged directly: WholeDocumentRule). */
export function limitRules(limits: GraphqlLimits, request: RequestToMeasure = {}): ValidationRule[] {
  const judge = (schema: GraphQLSchema, document: DocumentNode) => limitErrors(schema, document, limits, request);
  const rule: ValidationRule = (context) => ({
    Document: {
      leave: (document) => {
        for (const error of judge(context.getSchema(), document)) context.reportError(error);
      },
    },
  });
  return [Object.assign(rule, { judge })];
}

/**
 * Validates a document as the HTTP endpoint does (graphql-js's rules and Kiln's bounds), for the
 * transports that execute documents themselves (subscriptions over WebSocket). Empty when it may run.
 */
export function validateDocument(
  schema: GraphQLSchema,
  document: DocumentNode,
  limits: GraphqlLimits,
  request: RequestToMeasure = {},
): readonly GraphQLError[] {
  return validate(schema, document, [...specifiedRules, ...limitRules(limits, request)]);
}

/** A refusal under one of Kiln's codes, shaped as every GraphQL error of Kiln is: `extensions.code` and `extensions.status`. */
export function graphqlRefusal(code: keyof typeof ERRORS, message: string, nodes?: ASTNode | readonly ASTNode[]): GraphQLError {
  return new GraphQLError(message, {
    nodes,
    originalError: new KilnError(code, { detail: message }),
    extensions: { code, status: ERRORS[code].status },
  });
}

/** What the bounds refuse in `document` for this request; empty when it may run. */
function limitErrors(schema: GraphQLSchema, document: DocumentNode, limits: GraphqlLimits, request: RequestToMeasure): GraphQLError[] {
  const shape = shapeOf(document);
  if (shape.operations > limits.maxOperations) {
    return [
      graphqlRefusal(
        'KILN_GRAPHQL_TOO_MANY_OPERATIONS',
        `the document holds ${shape.operations} operations; at most ${limits.maxOperations} (only the one named by operationName runs)`,
      ),
    ];
  }
  const errors: GraphQLError[] = [];
  const measured = operationsToMeasure(document, request.operationName);
  const deepest = largest(measured.map((o) => shape.measure(o).depth));
  if (deepest > limits.maxDepth) errors.push(graphqlRefusal('KILN_GRAPHQL_TOO_DEEP', `the document nests fields ${deepest} deep; at most ${limits.maxDepth}`));
  const aliases = largest(measured.map((o) => shape.measure(o).aliases));
  if (aliases > limits.maxAliases) {
    errors.push(graphqlRefusal('KILN_GRAPHQL_TOO_MANY_ALIASES', `the document has ${shown(aliases)} aliased fields; at most ${limits.maxAliases}`));
  }
  // The cost depends on the request's variables (a `limit: $n`): measured every time.
  const cost = largest(measured.map((o) => operationCost(schema, document, o, request.variables)));
  if (cost > limits.maxCost) errors.push(graphqlRefusal('KILN_GRAPHQL_TOO_COSTLY', `the document costs ${shown(cost)}; at most ${limits.maxCost}`));
  if (!limits.introspection) {
    // graphql-js's NoSchemaIntrospectionCustomRule, under Kiln's code, once per introspection field a client wrote.
    for (const node of shape.introspection) {
      errors.push(
        graphqlRefusal(
          'KILN_GRAPHQL_INTROSPECTION_DISABLED',
          `introspection is disabled on this server: "${node.name.value}" cannot be queried (get the schema from \`kiln graphql\`)`,
          node,
        ),
      );
    }
  }
  return errors;
}

/** What the bounds measure of a document that does not depend on the request, measured once per document. */
interface DocumentShape {
  readonly operations: number;
  readonly introspection: readonly FieldNode[];
  measure(operation: OperationDefinitionNode): { readonly depth: number; readonly aliases: number };
}

const shapes = new WeakMap<DocumentNode, DocumentShape>();

function shapeOf(document: DocumentNode): DocumentShape {
  const known = shapes.get(document);
  if (known) return known;
  const fragments = fragmentsOf(document);
  const measured = new Map<OperationDefinitionNode, { depth: number; aliases: number }>();
  const shape: DocumentShape = {
    operations: document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION).length,
    introspection: introspectionFields(document),
    measure(operation) {
      let measures = measured.get(operation);
      if (!measures) {
        measures = { depth: operationDepth(operation, fragments), aliases: operationAliases(operation, fragments) };
        measured.set(operation, measures);
      }
      return measures;
    },
  };
  shapes.set(document, shape);
  return shape;
}

function largest(values: readonly number[]): number {
  return values.reduce((a, b) => Math.max(a, b), 0);
}

/** A count as digits, even past what a double holds exactly (limits of 10^12 nested twice). */
function shown(value: number): string {
  return Number.isSafeInteger(value) ? String(value) : `more than ${Number.MAX_SAFE_INTEGER}`;
}
