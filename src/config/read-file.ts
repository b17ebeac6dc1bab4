import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isKilnCode } from './kiln-code.js';
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
    const message = (error as Error).message.split('\n')[0];
    if (TS_EXTENSIONS.includes(ext) || JS_EXTENSIONS.includes(ext)) {
      // Not a syntax error: the file ran and threw (a typo such as field.strin(...)). Where, from its stack.
      const where = thrownAt(error);
      throw new FileReadError(
        file,
        `failed while loading${where ? ` at ${where}` : ''}: ${message}`,
        'fix the code that throws: the file runs each time the model is loaded',
      );
    }
    throw new FileReadError(file, `cannot be read: ${message}`, 'fix the syntax error');
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
 * The first place in the project's own files (not node_modules, not Kiln's, not Node's) where `error`
 * was thrown, as file:line:column. A TypeScript file of a CommonJS project runs as compiled text
 * (a `data:` URL) whose positions are not the file's: no place is given then rather than a wrong one.
 */
function thrownAt(error: unknown): string | undefined {
  const stack = error instanceof Error ? (error.stack ?? '') : '';
  for (const [, where = '', line, column] of stack.matchAll(/^\s+at (?:.*\()?(file:\/\/[^\s)]+?|\/[^\s):]+?)(?:\?[^\s):]*)?:(\d+):(\d+)\)?$/gm)) {
    const path = where.startsWith('file:') ? fileURLToPath(where) : where;
    // A frame in Kiln's own code is where Kiln loaded the file, not where the file failed.
    if (path.includes('/node_modules/') || isKilnCode(path) || path.includes('[eval')) continue;
    return `${path}:${line}:${column}`;
  }
  return undefined;
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
