/**
 * Queries and mutations run by graphql-jit: a document is compiled once into plain JavaScript for the
 * schema (no per-field walk of the document, no per-field promise), then called for every request that
 * sends it. graphql-js's executor spent about 400 µs on a page of 20 posts with their authors, most of
 * a GraphQL request's cost over REST's (docs/explanation/benchmark.md). Only documents the document
 * cache keeps are compiled (compiling costs far more than one execution), and subscriptions, which
 * graphql-jit does not run the way graphql-ws needs, stay with graphql-js.
 */
import { type DocumentNode, type ExecutionArgs, type ExecutionResult, execute, getOperationAST } from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';

/** Whether a document is worth compiling: it is kept and will be sent again. */
export type KeptDocument = (document: DocumentNode) => boolean;

export function jitExecutor(isKept: KeptDocument): (args: ExecutionArgs) => Promise<ExecutionResult> | ExecutionResult {
  /** Per document, the compiled operation of each operationName ('' for none); null where graphql-jit declined it. */
  const compiled = new WeakMap<DocumentNode, Map<string, CompiledQuery | null>>();
  return (args) => {
    if (!isKept(args.document)) return execute(args);
    let byOperation = compiled.get(args.document);
    if (!byOperation) {
      byOperation = new Map();
      compiled.set(args.document, byOperation);
    }
    const name = args.operationName ?? '';
    let query = byOperation.get(name);
    if (query === undefined) {
      query = compile(args);
      byOperation.set(name, query);
    }
    return query ? query.query(args.rootValue, args.contextValue, args.variableValues ?? {}) : execute(args);
  };
}

function compile(args: ExecutionArgs): CompiledQuery | null {
  const operation = getOperationAST(args.document, args.operationName);
  if (!operation || operation.operation === 'subscription') return null;
  const result = compileQuery(args.schema, args.document, args.operationName ?? undefined);
  return isCompiledQuery(result) ? result : null;
}
