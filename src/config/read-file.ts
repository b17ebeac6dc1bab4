import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DataSyntaxError, type DuplicateKey, parseJsonData, parseYamlData } from './parse-data.js';

const TS_EXTENSIONS = ['.ts', '.mts', '.cts'];
const JS_EXTENSIONS = ['.js', '.mjs'];

export class FileReadError extends Error {
  constructor(
    readonly file: string,
    message: string,
    readonly hint: string,
    /** Keys written twice in a YAML or JSON file, each with the path of its entry. */
    readonly duplicates: readonly DuplicateKey[] = [],
  ) {
    super(message);
    this.name = 'FileReadError';
  }
}

/**
 * Reads a declaration file: the default export of TypeScript or JavaScript, or the document of YAML
 * or JSON. The model and the settings file are both read this way.
 */
export async function readDeclarationFile(file: string): Promise<unknown> {
  if (!existsSync(file)) throw new FileReadError(file, 'the file does not exist', 'check the path');
  const ext = extname(file);
  try {
    if (ext === '.yaml' || ext === '.yml') return parseYamlData(readFileSync(file, 'utf8'));
    if (ext === '.json') return parseJsonData(readFileSync(file, 'utf8'));
    if (TS_EXTENSIONS.includes(ext) || JS_EXTENSIONS.includes(ext)) {
      // A fresh query string bypasses the module cache, so `kiln dev` sees edits.
      const url = `${pathToFileURL(file).href}?t=${Date.now()}`;
      const mod = TS_EXTENSIONS.includes(ext) ? await (await import('tsx/esm/api')).tsImport(url, import.meta.url) : await import(url);
      const declaration = defaultExport(mod as Record<string, unknown>);
      // Without this check a file that forgot `export default` would read as an empty declaration.
      if (declaration === undefined) {
        throw new FileReadError(
          file,
          'has no default export',
          'export the declaration as the default: export default defineModel({ … }) (or export default { … })',
        );
      }
      return declaration;
    }
  } catch (error) {
    if (error instanceof FileReadError) throw error;
    if (error instanceof DataSyntaxError && error.duplicates.length > 0) {
      throw new FileReadError(file, error.message, 'keep one entry of each name: the later one would silently replace the earlier', error.duplicates);
    }
    const syntax = syntaxError(error);
    if (syntax) throw new FileReadError(file, syntax, 'fix the syntax at that line and column');
    throw new FileReadError(file, `cannot be read: ${(error as Error).message.split('\n')[0]}`, 'fix the syntax error');
  }
  throw new FileReadError(file, `unknown file type "${ext}"`, 'use .ts, .js, .yaml, .yml or .json');
}

/**
 * esbuild (through tsx) reports a TypeScript syntax error as "Transform failed with N error(s):"
 * followed by "file:line:column: ERROR: text" lines (it stops at the first); the first line alone says
 * nothing. The first error, as "syntax error at file:line:column: text" (the form terminals link).
 */
function syntaxError(error: unknown): string | undefined {
  if (!(error instanceof Error) || error.name !== 'TransformError') return undefined;
  const first = /^(.+):(\d+):(\d+): ERROR: (.+)$/m.exec(error.message);
  if (!first) return undefined;
  const [, where, line, column, text] = first;
  return `syntax error at ${where}:${line}:${column}: ${text}`;
}

/**
 * The default export of an imported module. A TypeScript file in a CommonJS package is compiled to
 * `exports.default = …` under an `__esModule` marker, and Node hands the whole exports object over as
 * the default; the declaration is the `default` inside it (absent when the file only has named exports).
 */
function defaultExport(mod: Record<string, unknown>): unknown {
  const value = Object.hasOwn(mod, 'default') ? mod.default : undefined;
  if (typeof value === 'object' && value !== null && (value as { __esModule?: unknown }).__esModule === true) {
    return Object.hasOwn(value, 'default') ? (value as { default: unknown }).default : undefined;
  }
  return value;
}
