/**
 * Parses YAML and JSON declaration files. Both parsers would let a repeated key silently win over
 * the first (JSON.parse does, and so would YAML with unique keys off), and YAML's own duplicate-key
 * error names only a line: here every repeated key is reported with the path of the entry, so a
 * model error reads like every other (`resources.posts.fields.title`).
 */
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';

export interface DuplicateKey {
  /** Dotted path of the repeated entry, e.g. `resources.posts.fields.title`. */
  readonly path: string;
  /** Line of the repeat, 1-based. */
  readonly line: number;
}

export class DataSyntaxError extends Error {
  constructor(
    message: string,
    readonly duplicates: readonly DuplicateKey[] = [],
  ) {
    super(message);
    this.name = 'DataSyntaxError';
  }
}

export function parseYamlData(text: string): unknown {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { uniqueKeys: false, lineCounter });
  const [error] = document.errors;
  if (error) throw new DataSyntaxError(error.message.split('\n')[0] ?? error.message);
  rejectDuplicates(document.contents, lineCounter);
  return document.toJS();
}

export function parseJsonData(text: string): unknown {
  const value: unknown = JSON.parse(text);
  // Valid JSON is valid YAML 1.2, whose parser keeps every key and where it stands.
  const lineCounter = new LineCounter();
  rejectDuplicates(parseDocument(text, { uniqueKeys: false, lineCounter }).contents, lineCounter);
  return value;
}

function rejectDuplicates(root: Node | null, lines: LineCounter): void {
  const found: DuplicateKey[] = [];
  const walk = (node: unknown, path: readonly string[]) => {
    if (isSeq(node)) {
      for (const [i, item] of node.items.entries()) walk(item, [...path, String(i)]);
    }
    if (!isMap(node)) return;
    const seen = new Set<string>();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const at = [...path, key];
      if (seen.has(key)) found.push({ path: at.join('.'), line: lines.linePos(isScalar(pair.key) ? (pair.key.range?.[0] ?? 0) : 0).line });
      seen.add(key);
      walk(pair.value, at);
    }
  };
  walk(root, []);
  if (found.length > 0) {
    const list = found.map((d) => `${d.path} (line ${d.line})`).join(', ');
    throw new DataSyntaxError(`repeated ${found.length === 1 ? 'key' : 'keys'}: ${list}`, found);
  }
}
