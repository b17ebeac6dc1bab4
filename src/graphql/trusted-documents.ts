/**
 * Trusted documents (also called persisted documents or an operation allow-list): the GraphQL
 * documents a team's own clients send, listed ahead of time in a manifest `{ "<sha256 hex>":
 * "<document>" }` as GraphQL Codegen's client preset writes it (`persisted-documents.json`). The
 * manifest is read and checked once at start-up; a mistake in it stops the start with a message
 * naming the file, the entry and the fix.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type DocumentNode, GraphQLError, parse } from 'graphql';
import { StartupError } from '../config/startup-error.js';

const SETTING = 'KILN_GRAPHQL_TRUSTED_DOCUMENTS';
const SHAPE = '{ "<sha256 hex>": "<document>" }';
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** The draft GraphQL over HTTP persisted-documents appendix prefixes ids with their hash's name. */
const ID_PREFIX = 'sha256:';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export class TrustedDocuments {
  /** Each document's text and its parsed form, by the sha256 of the text. */
  readonly #byHash: ReadonlyMap<string, { readonly text: string; readonly document: DocumentNode }>;
  readonly #byText: ReadonlyMap<string, DocumentNode>;

  private constructor(entries: ReadonlyMap<string, { readonly text: string; readonly document: DocumentNode }>) {
    this.#byHash = entries;
    this.#byText = new Map([...entries.values()].map((e) => [e.text, e.document]));
  }

  /** Reads and checks a manifest; a StartupError names what is wrong and how to fix it. */
  static load(file: string): TrustedDocuments {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new StartupError(`${SETTING}: cannot read ${file}: ${(error as Error).message}`);
    }
    let manifest: unknown;
    try {
      manifest = JSON.parse(text);
    } catch (error) {
      throw new StartupError(`${SETTING}: ${file} is not valid JSON (${(error as Error).message}); a manifest of trusted documents is ${SHAPE}`);
    }
    if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
      throw new StartupError(`${SETTING}: ${file} must be a JSON object ${SHAPE}, as GraphQL Codegen's persisted documents are`);
    }
    const entries = new Map<string, { text: string; document: DocumentNode }>();
    for (const [key, value] of Object.entries(manifest)) entries.set(key, checkedEntry(file, key, value));
    if (entries.size === 0) throw new StartupError(`${SETTING}: ${file} lists no document; generate it from your client's documents`);
    return new TrustedDocuments(entries);
  }

  /** The text of the document an id names (`<sha256 hex>` or `sha256:<sha256 hex>`). */
  textOf(id: string): string | undefined {
    const hash = id.startsWith(ID_PREFIX) ? id.slice(ID_PREFIX.length) : id;
    return this.#byHash.get(hash.toLowerCase())?.text;
  }

  /** Whether a document sent as text is one of the manifest: its sha256 is a key. */
  trusts(text: string): boolean {
    return this.#byHash.has(sha256Hex(text));
  }

  /** The document parsed at start-up, for a text of the manifest: trusted documents are never parsed per request. */
  parsed(text: string): DocumentNode | undefined {
    return this.#byText.get(text);
  }
}

function checkedEntry(file: string, key: string, value: unknown): { text: string; document: DocumentNode } {
  const where = `${SETTING}: ${file}: entry "${key}"`;
  if (!SHA256_HEX.test(key)) {
    throw new StartupError(`${where}: the key is not a sha256 in lowercase hex (64 characters 0-9a-f); the manifest is ${SHAPE}`);
  }
  if (typeof value !== 'string') throw new StartupError(`${where}: the document is ${value === null ? 'null' : typeof value}, not a string`);
  const actual = sha256Hex(value);
  if (actual !== key) {
    throw new StartupError(`${where}: the key is not the sha256 of its document (that is ${actual}); regenerate the manifest with sha256 hashes`);
  }
  try {
    return { text: value, document: parse(value) };
  } catch (error) {
    const reason =
      error instanceof GraphQLError ? `${error.message} (${error.locations?.map((l) => `line ${l.line}, column ${l.column}`).join('; ')})` : String(error);
    throw new StartupError(`${where}: the document does not parse: ${reason}`);
  }
}
