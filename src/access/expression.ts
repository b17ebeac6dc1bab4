/**
 * The rule language's syntax: a condition written as text (`authorId == auth.id || auth.roles has
 * 'editor'`) becomes a syntax tree, or a message saying where it stops making sense. Types, field
 * names and roles are checked against the model afterwards (check-rules.ts). The grammar is in
 * docs/reference/access-rules.md; a hand-written recursive descent keeps the messages precise, and
 * the language is small enough that a parser generator would be the bigger part.
 */

/** Longest condition accepted: rules are written by people, and a bound keeps a mistake cheap. */
export const MAX_CONDITION_LENGTH = 2000;
/** Deepest nesting of parentheses, `!` and `exists` accepted, and the most names in a path (`post.author.id`). */
export const MAX_CONDITION_DEPTH = 32;

export type CompareOperator = '==' | '!=' | '<' | '<=' | '>' | '>=';

export type Literal = string | number | boolean | null;

export type Operand =
  | { readonly kind: 'path'; readonly path: readonly string[] }
  | { readonly kind: 'auth'; readonly name: 'id' | 'roles' }
  | { readonly kind: 'literal'; readonly value: Literal }
  | { readonly kind: 'list'; readonly items: readonly Literal[] };

export type Syntax =
  | { readonly kind: 'and' | 'or'; readonly items: readonly Syntax[] }
  | { readonly kind: 'not'; readonly item: Syntax }
  | { readonly kind: 'compare'; readonly left: Operand; readonly operator: CompareOperator; readonly right: Operand }
  | { readonly kind: 'in'; readonly left: Operand; readonly right: Operand }
  | { readonly kind: 'has'; readonly left: Operand; readonly right: Operand }
  | { readonly kind: 'exists'; readonly relation: string; readonly where?: Syntax }
  /** An operand standing alone: a boolean field, `true` or `false`. */
  | { readonly kind: 'operand'; readonly operand: Operand };

type Token =
  | { readonly kind: 'name'; readonly text: string; readonly at: number }
  | { readonly kind: 'string'; readonly value: string; readonly at: number }
  | { readonly kind: 'number'; readonly value: number; readonly at: number }
  | { readonly kind: 'symbol'; readonly text: string; readonly at: number }
  | { readonly kind: 'end'; readonly at: number };

export class RuleSyntaxError extends Error {
  /** Zero-based offset in the condition where the problem is. */
  readonly at: number;
  constructor(message: string, at: number) {
    super(message);
    this.at = at;
  }
}

const SYMBOLS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!', '(', ')', '[', ']', ',', '.'];
const COMPARE: ReadonlySet<string> = new Set(['==', '!=', '<', '<=', '>', '>=']);
const KEYWORDS: ReadonlySet<string> = new Set(['true', 'false', 'null', 'exists', 'has', 'in', 'auth']);

/** Parses one condition; throws RuleSyntaxError with the offset of the problem. */
export function parseCondition(source: string): Syntax {
  if (source.length > MAX_CONDITION_LENGTH) throw new RuleSyntaxError(`the condition is longer than ${MAX_CONDITION_LENGTH} characters`, 0);
  const parser = new Parser(tokenize(source));
  const tree = parser.condition(0);
  parser.expectEnd();
  return tree;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i, i + 200));
    if (name) {
      tokens.push({ kind: 'name', text: name[0], at: i });
      i += name[0].length;
      continue;
    }
    const number = /^-?\d+(\.\d+)?/.exec(source.slice(i, i + 64));
    if (number) {
      tokens.push({ kind: 'number', value: Number(number[0]), at: i });
      i += number[0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      const { value, end } = readString(source, i);
      tokens.push({ kind: 'string', value, at: i });
      i = end;
      continue;
    }
    const symbol = SYMBOLS.find((s) => source.startsWith(s, i));
    if (!symbol) {
      const hint = c === '=' ? ' (compare with ==)' : c === '&' || c === '|' ? ' (write && or ||)' : '';
      throw new RuleSyntaxError(`unexpected character "${c}"${hint}`, i);
    }
    tokens.push({ kind: 'symbol', text: symbol, at: i });
    i += symbol.length;
  }
  tokens.push({ kind: 'end', at: source.length });
  return tokens;
}

function readString(source: string, start: number): { value: string; end: number } {
  const quote = source[start];
  let value = '';
  let i = start + 1;
  while (i < source.length) {
    const c = source[i] as string;
    if (c === quote) return { value, end: i + 1 };
    if (c === '\\' && i + 1 < source.length) {
      value += source[i + 1];
      i += 2;
      continue;
    }
    value += c;
    i++;
  }
  throw new RuleSyntaxError('a string is not closed', start);
}

class Parser {
  readonly #tokens: Token[];
  #next = 0;

  constructor(tokens: Token[]) {
    this.#tokens = tokens;
  }

  condition(depth: number): Syntax {
    if (depth > MAX_CONDITION_DEPTH) throw new RuleSyntaxError(`the condition nests deeper than ${MAX_CONDITION_DEPTH} levels`, this.#peek().at);
    return this.#list('||', 'or', () => this.#list('&&', 'and', () => this.#unary(depth)));
  }

  expectEnd(): void {
    const token = this.#peek();
    if (token.kind !== 'end') throw new RuleSyntaxError(`unexpected ${describe(token)}: join conditions with && or ||`, token.at);
  }

  #list(symbol: string, kind: 'and' | 'or', item: () => Syntax): Syntax {
    const items = [item()];
    while (this.#isSymbol(symbol)) {
      this.#next++;
      items.push(item());
    }
    return items.length === 1 ? (items[0] as Syntax) : { kind, items };
  }

  #unary(depth: number): Syntax {
    if (this.#isSymbol('!')) {
      // `!` nests like a parenthesis: without this bound, `!!!…!x` would nest as deep as the text is long.
      if (depth >= MAX_CONDITION_DEPTH) throw new RuleSyntaxError(`the condition nests deeper than ${MAX_CONDITION_DEPTH} levels`, this.#peek().at);
      this.#next++;
      return { kind: 'not', item: this.#unary(depth + 1) };
    }
    if (this.#isSymbol('(')) {
      this.#next++;
      const inner = this.condition(depth + 1);
      this.#expectSymbol(')', 'a ")" to close the "("');
      return inner;
    }
    const token = this.#peek();
    if (token.kind === 'name' && token.text === 'exists') return this.#exists(depth);
    const left = this.#operand();
    const next = this.#peek();
    if (next.kind === 'symbol' && COMPARE.has(next.text)) {
      this.#next++;
      return { kind: 'compare', left, operator: next.text as CompareOperator, right: this.#operand() };
    }
    if (next.kind === 'name' && (next.text === 'in' || next.text === 'has')) {
      this.#next++;
      return { kind: next.text, left, right: this.#operand() };
    }
    return { kind: 'operand', operand: left };
  }

  #exists(depth: number): Syntax {
    this.#next++;
    this.#expectSymbol('(', 'a "(" after exists: exists(relation, condition)');
    const relation = this.#peek();
    if (relation.kind !== 'name' || KEYWORDS.has(relation.text)) {
      throw new RuleSyntaxError(`expected a relation name after "exists(", found ${describe(relation)}`, relation.at);
    }
    this.#next++;
    let where: Syntax | undefined;
    if (this.#isSymbol(',')) {
      this.#next++;
      where = this.condition(depth + 1);
    }
    this.#expectSymbol(')', 'a ")" to close exists(…)');
    return where ? { kind: 'exists', relation: relation.text, where } : { kind: 'exists', relation: relation.text };
  }

  #operand(): Operand {
    const token = this.#peek();
    this.#next++;
    switch (token.kind) {
      case 'string':
        return { kind: 'literal', value: token.value };
      case 'number':
        return { kind: 'literal', value: token.value };
      case 'name':
        return this.#named(token.text, token.at);
      case 'symbol':
        if (token.text === '[') return this.#literalList(token.at);
        throw new RuleSyntaxError(`expected a field, auth.id, auth.roles or a value, found ${describe(token)}`, token.at);
      case 'end':
        throw new RuleSyntaxError('the condition ends too early: a field, auth.id, auth.roles or a value is missing', token.at);
    }
  }

  #named(text: string, at: number): Operand {
    if (text === 'true' || text === 'false') return { kind: 'literal', value: text === 'true' };
    if (text === 'null') return { kind: 'literal', value: null };
    if (text === 'auth') {
      this.#expectSymbol('.', '"." after auth: auth.id or auth.roles');
      const member = this.#peek();
      if (member.kind !== 'name' || (member.text !== 'id' && member.text !== 'roles')) {
        throw new RuleSyntaxError(`auth has only id and roles, not ${describe(member)}`, member.at);
      }
      this.#next++;
      return { kind: 'auth', name: member.text };
    }
    if (KEYWORDS.has(text)) throw new RuleSyntaxError(`"${text}" cannot start an operand`, at);
    const path = [text];
    while (this.#isSymbol('.')) {
      this.#next++;
      const part = this.#peek();
      if (part.kind !== 'name') throw new RuleSyntaxError(`expected a field or relation name after ".", found ${describe(part)}`, part.at);
      this.#next++;
      path.push(part.text);
      // Each step is a relation the SQL joins through: bounded like nesting.
      if (path.length > MAX_CONDITION_DEPTH) throw new RuleSyntaxError(`a path goes through at most ${MAX_CONDITION_DEPTH - 1} relations`, part.at);
    }
    return { kind: 'path', path };
  }

  #literalList(at: number): Operand {
    const items: Literal[] = [];
    if (!this.#isSymbol(']')) {
      for (;;) {
        const item = this.#operand();
        if (item.kind !== 'literal') throw new RuleSyntaxError('a list holds only values (strings, numbers, true, false)', at);
        items.push(item.value);
        if (!this.#isSymbol(',')) break;
        this.#next++;
      }
    }
    this.#expectSymbol(']', 'a "]" to close the list');
    if (items.length === 0) throw new RuleSyntaxError('a list must hold at least one value', at);
    return { kind: 'list', items };
  }

  #peek(): Token {
    return this.#tokens[this.#next] as Token;
  }

  #isSymbol(text: string): boolean {
    const token = this.#peek();
    return token.kind === 'symbol' && token.text === text;
  }

  #expectSymbol(text: string, what: string): void {
    if (!this.#isSymbol(text)) {
      const token = this.#peek();
      throw new RuleSyntaxError(`expected ${what}, found ${describe(token)}`, token.at);
    }
    this.#next++;
  }
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'name':
      return `"${token.text}"`;
    case 'string':
      return `the string ${JSON.stringify(token.value)}`;
    case 'number':
      return `the number ${token.value}`;
    case 'symbol':
      return `"${token.text}"`;
    case 'end':
      return 'the end of the condition';
  }
}
