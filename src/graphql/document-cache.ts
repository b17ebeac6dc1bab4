/**
 * Parsed and validated documents, kept by their text. Clients send the same few documents over and
 * over (with other variables), and graphql-js's parse and its specified validation rules cost about
 * as much as executing a page of 20 records (bench/graphql.ts; docs/explanation/benchmark.md). The result of the
 * specified rules depends only on the schema and the document, so it is kept; Kiln's own rules
 * (depth, cost, aliases, introspection: src/graphql/limits.ts) read the request's variables and run on
 * every request, on the cached document.
 */
import { type DocumentNode, type GraphQLError, type GraphQLSchema, parse as parseDocument, specifiedRules, type ValidationRule, validate } from 'graphql';
import { isWholeDocumentRule } from './limits.js';

/** Documents kept, the least recently used dropped first. */
const MAX_DOCUMENTS = 256;
/**
 * A longer text is parsed and validated every time. With MAX_DOCUMENTS this bounds what the cache
 * holds (texts and their trees, a few MB), and only documents that passed validation are kept, so
 * text sent to fill it must also be a valid document within Kiln's bounds.
 */
const MAX_CACHED_LENGTH = 4096;

const SPECIFIED = new Set<ValidationRule>(specifiedRules);

export class DocumentCache {
  readonly #documents = new Map<string, DocumentNode>();
  /** The text of each document parsed and not yet kept: it is kept once it validates. */
  readonly #sources = new WeakMap<DocumentNode, string>();
  /** The errors of the specified rules, per document (so per schema: a cache serves one schema). */
  readonly #standardErrors = new WeakMap<DocumentNode, readonly GraphQLError[]>();
  readonly #parse: typeof parseDocument;
  /** Every document kept (dropped ones too, until collected): a document parsed for one request only is not among them. */
  readonly #kept = new WeakSet<DocumentNode>();

  /** `parse`: the parser to cache (the trusted documents' one, which hands out documents parsed at start-up). */
  constructor(parse: typeof parseDocument = parseDocument) {
    this.#parse = parse;
  }

  /** graphql-js's parse, once per text of a valid document. A text that does not parse throws each time. */
  readonly parse: typeof parseDocument = (source, options) => {
    if (typeof source !== 'string' || options || source.length > MAX_CACHED_LENGTH) return this.#parse(source, options);
    const kept = this.#documents.get(source);
    if (kept) {
      // Map keeps insertion order: moved to the end, it is dropped last.
      this.#documents.delete(source);
      this.#documents.set(source, kept);
      return kept;
    }
    const document = this.#parse(source);
    this.#sources.set(document, source);
    return document;
  };

  /** graphql-js's validate: the specified rules' verdict kept per document, the other rules run each time. */
  readonly validate = (schema: GraphQLSchema, document: DocumentNode, rules: readonly ValidationRule[] = specifiedRules): readonly GraphQLError[] => {
    const standard = rules.filter((rule) => SPECIFIED.has(rule));
    const own = rules.filter((rule) => !SPECIFIED.has(rule));
    // Only the full specified set is kept: another subset would give another verdict.
    const keep = standard.length === specifiedRules.length;
    let errors = keep ? this.#standardErrors.get(document) : undefined;
    if (!errors) {
      errors = validate(schema, document, standard);
      if (keep) this.#standardErrors.set(document, errors);
    }
    // Rules that judge the whole document at once are called directly, without graphql-js's walk.
    const walked = own.filter((rule) => !isWholeDocumentRule(rule));
    const ownErrors = [
      ...(walked.length === 0 ? [] : validate(schema, document, walked)),
      ...own.filter(isWholeDocumentRule).flatMap((rule) => rule.judge(schema, document)),
    ];
    if (keep && errors.length === 0 && ownErrors.length === 0) this.#keep(document);
    return errors.length === 0 ? ownErrors : [...errors, ...ownErrors];
  };

  /** Whether `document` is one the cache keeps (so will hand out again for the same text). */
  readonly isKept = (document: DocumentNode): boolean => this.#kept.has(document);

  #keep(document: DocumentNode): void {
    const source = this.#sources.get(document);
    if (source === undefined) return;
    this.#sources.delete(document);
    this.#documents.set(source, document);
    this.#kept.add(document);
    if (this.#documents.size > MAX_DOCUMENTS) this.#documents.delete(this.#documents.keys().next().value as string);
  }
}
