/**
 * The shape of a GraphQL operation that needs no schema: how deep its selections nest and how many
 * aliased fields it runs, fragments expanded where they are spread. Each fragment is measured once
 * (a fragment spread a thousand times costs one walk), and a fragment that spreads itself, directly
 * or not, counts as empty here: graphql-js's NoFragmentCyclesRule refuses the document anyway, and
 * this walk must end before that error is reported.
 */
import { type DocumentNode, type FieldNode, type FragmentDefinitionNode, Kind, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';

/**
 * `__schema` and `__type` count as one field each; what is selected under them is bounded by
 * graphql-js's MaxIntrospectionDepthRule instead (a specified rule), because every client's
 * introspection query nests `ofType` nine deep and would be refused at any useful depth.
 */
export const INTROSPECTION_ROOTS: ReadonlySet<string> = new Set(['__schema', '__type']);

export function fragmentsOf(document: DocumentNode): ReadonlyMap<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  return fragments;
}

/** Every `__schema` and `__type` field written anywhere in the document (its fragments included). */
export function introspectionFields(document: DocumentNode): FieldNode[] {
  const found: FieldNode[] = [];
  const walk = (set: SelectionSetNode): void => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (INTROSPECTION_ROOTS.has(selection.name.value)) found.push(selection);
        if (selection.selectionSet) walk(selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) walk(selection.selectionSet);
    }
  };
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION) walk(definition.selectionSet);
  }
  return found;
}

/**
 * The operations a request runs: the one `operationName` names, or every operation when the name
 * matches none or is absent (a document of several operations without a name does not run at all,
 * so measuring them all refuses nothing that would have run).
 */
export function operationsToMeasure(document: DocumentNode, operationName?: string | null): OperationDefinitionNode[] {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const named = operationName ? operations.filter((o) => o.name?.value === operationName) : [];
  return named.length > 0 ? named : operations;
}

/** Deepest nesting of fields: `{ posts { items { id } } }` is 3; fragments add no level of their own. */
export function operationDepth(operation: OperationDefinitionNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>): number {
  return new FragmentMemo(fragments, depthOf).of(operation.selectionSet);
}

/** Aliased fields the operation runs, each fragment counted as often as it is spread. */
export function operationAliases(operation: OperationDefinitionNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>): number {
  return new FragmentMemo(fragments, aliasesOf).of(operation.selectionSet);
}

type Measure = (set: SelectionSetNode, memo: FragmentMemo) => number;

function depthOf(set: SelectionSetNode, memo: FragmentMemo): number {
  let deepest = 0;
  for (const selection of set.selections) {
    let depth: number;
    if (selection.kind === Kind.FIELD) {
      const below = selection.selectionSet && !INTROSPECTION_ROOTS.has(selection.name.value) ? memo.of(selection.selectionSet) : 0;
      depth = 1 + below;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) depth = memo.of(selection.selectionSet);
    else depth = memo.fragment(selection.name.value);
    deepest = Math.max(deepest, depth);
  }
  return deepest;
}

function aliasesOf(set: SelectionSetNode, memo: FragmentMemo): number {
  let count = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) count += (selection.alias ? 1 : 0) + (selection.selectionSet ? memo.of(selection.selectionSet) : 0);
    else if (selection.kind === Kind.INLINE_FRAGMENT) count += memo.of(selection.selectionSet);
    else count += memo.fragment(selection.name.value);
  }
  return count;
}

/** One measure over selection sets, with each named fragment measured once and cycles cut. */
class FragmentMemo {
  readonly #fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  readonly #measure: Measure;
  readonly #done = new Map<string, number>();
  readonly #open = new Set<string>();

  constructor(fragments: ReadonlyMap<string, FragmentDefinitionNode>, measure: Measure) {
    this.#fragments = fragments;
    this.#measure = measure;
  }

  of(set: SelectionSetNode): number {
    return this.#measure(set, this);
  }

  fragment(name: string): number {
    const known = this.#done.get(name);
    if (known !== undefined) return known;
    const definition = this.#fragments.get(name);
    if (!definition || this.#open.has(name)) return 0;
    this.#open.add(name);
    const value = this.of(definition.selectionSet);
    this.#open.delete(name);
    this.#done.set(name, value);
    return value;
  }
}
