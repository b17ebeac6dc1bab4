/**
 * The field nodes a response path points at, to give an error its `locations` when the executor did
 * not (graphql-jit reports the path of a failing field but not where the field is written). As
 * graphql-js does, every node the field was merged from counts: `posts` asked twice with the same
 * arguments has two locations.
 */
import { type DocumentNode, type FieldNode, getOperationAST, Kind, type SelectionSetNode } from 'graphql';

export function fieldNodesAt(document: DocumentNode, operationName: string | null | undefined, path: readonly (string | number)[]): FieldNode[] {
  const operation = getOperationAST(document, operationName);
  if (!operation) return [];
  const fragments = new Map<string, SelectionSetNode>();
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition.selectionSet);
  let sets: SelectionSetNode[] = [operation.selectionSet];
  let nodes: FieldNode[] = [];
  for (const key of path) {
    // List indices name an item of the list the previous key's field returned: same selections.
    if (typeof key === 'number') continue;
    nodes = sets.flatMap((set) => fieldsNamed(set, key, fragments, new Set()));
    sets = nodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));
  }
  return nodes;
}

/** The fields of a selection set (through fragments) whose response key is `key`. */
function fieldsNamed(set: SelectionSetNode, key: string, fragments: ReadonlyMap<string, SelectionSetNode>, seen: Set<string>): FieldNode[] {
  return set.selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD) return (selection.alias ?? selection.name).value === key ? [selection] : [];
    if (selection.kind === Kind.INLINE_FRAGMENT) return fieldsNamed(selection.selectionSet, key, fragments, seen);
    const name = selection.name.value;
    const fragment = fragments.get(name);
    if (!fragment || seen.has(name)) return [];
    return fieldsNamed(fragment, key, fragments, new Set([...seen, name]));
  });
}
