/**
 * What `kiln dev` watches: the model file and every file of the project it imports (a
 * kiln.config.ts importing ./resources/posts.ts), found by importing the model through tsx and
 * recording what it loads. A YAML or JSON model imports nothing itself; when it names an extensions
 * module (`extensions: ./file.ts`), that module and its imports are watched too.
 */
import { type FSWatcher, watch } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, extname, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isKilnCode } from '../config/kiln-code.js';
import { readDeclarationFile } from '../config/read-file.js';

const IMPORTABLE = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];
const requireCache = createRequire(import.meta.url).cache;

/**
 * tsx loads a TypeScript model in a fresh namespace each time, but in a CommonJS project the files
 * it requires stay in Node's require cache under the first namespace, so an edit of an imported file
 * would never be seen. Dropping the entries tsx made for model loads (their keys carry the namespace)
 * makes the next load read them again; Kiln's own modules and node_modules are never among them.
 */
export function forgetLoadedModelFiles(): void {
  for (const key of Object.keys(requireCache)) if (/namespace(=|%3D)/.test(key)) delete requireCache[key];
}

/** The project files the model consists of, the model file first; never throws (a broken file is still watched). */
export async function modelFiles(file: string): Promise<string[]> {
  const files = new Set([file]);
  if (IMPORTABLE.includes(extname(file))) {
    for (const f of await importedFiles(file)) files.add(f);
  } else {
    // The file as written (the model load has replaced `extensions` by the module it names).
    const declaration = await readDeclarationFile(file).catch(() => undefined);
    const named = typeof declaration === 'object' && declaration !== null ? (declaration as { extensions?: unknown }).extensions : undefined;
    if (typeof named === 'string') {
      const extensions = resolve(dirname(file), named);
      files.add(extensions);
      for (const f of await importedFiles(extensions)) files.add(f);
    }
  }
  return [...files];
}

/** Imports `file` once more, in a namespace of its own, recording every project file it loads (ES modules and CommonJS). */
async function importedFiles(file: string): Promise<string[]> {
  const seen = new Set<string>();
  const add = (path: string) => {
    const clean = path.replace(/\?.*$/, '');
    // Kiln's own code is not the project's, and a change to it needs a restart anyway.
    if (!clean.split(sep).includes('node_modules') && !isKilnCode(clean)) seen.add(clean);
  };
  forgetLoadedModelFiles();
  try {
    const { tsImport } = await import('tsx/esm/api');
    await tsImport(`${pathToFileURL(file).href}?watch=${Date.now()}`, {
      parentURL: import.meta.url,
      onImport: (url) => {
        if (url.startsWith('file:')) add(fileURLToPath(url.replace(/\?.*$/, '')));
      },
    });
  } catch {
    // A file that does not load right now is reported by the model load itself; what it got to is watched.
  }
  for (const key of Object.keys(requireCache)) if (key.startsWith(sep) && /\?namespace=/.test(key)) add(key);
  forgetLoadedModelFiles();
  return [...seen];
}

/**
 * Watches files through their folders, not the files themselves: editors save by writing a new file
 * and renaming it over the old one, which a watch on the old file would not survive.
 */
export class FileWatcher {
  readonly #folders = new Map<string, { watcher: FSWatcher; names: Set<string> }>();

  constructor(private readonly onChange: (file: string) => void) {}

  /** Watches exactly `files` from now on. */
  set(files: readonly string[]): void {
    const wanted = new Map<string, Set<string>>();
    for (const f of files) {
      const names = wanted.get(dirname(f)) ?? new Set();
      names.add(basename(f));
      wanted.set(dirname(f), names);
    }
    for (const [folder, entry] of this.#folders) {
      if (wanted.has(folder)) continue;
      entry.watcher.close();
      this.#folders.delete(folder);
    }
    for (const [folder, names] of wanted) {
      const entry = this.#folders.get(folder);
      if (entry) {
        entry.names = names;
        continue;
      }
      let watcher: FSWatcher;
      try {
        watcher = watch(folder);
      } catch {
        continue; // gone since it was loaded; the next load says so
      }
      const added = { names, watcher };
      added.watcher.on('change', (_event, name) => {
        if (typeof name === 'string' && added.names.has(name)) this.onChange(resolve(folder, name));
      });
      // A folder that goes away (deleted with the file) stops its watcher; the model load reports the missing file.
      added.watcher.on('error', () => undefined);
      this.#folders.set(folder, added);
    }
  }

  files(): string[] {
    return [...this.#folders].flatMap(([folder, { names }]) => [...names].map((n) => resolve(folder, n)));
  }

  close(): void {
    for (const { watcher } of this.#folders.values()) watcher.close();
    this.#folders.clear();
  }
}
