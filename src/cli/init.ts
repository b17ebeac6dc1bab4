/** `kiln init [DIR]`: a new project (model, first migration, scripts, Docker files) from templates/init/. */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { generateMigration } from '../migrate/generate.js';
import { loadModelSource } from '../migrate/model-source.js';
import type { CliOptions } from './main.js';

const PACKAGE_ROOT = resolve(import.meta.dirname, '../..');
const TEMPLATES = join(PACKAGE_ROOT, 'templates/init');

/**
 * Template file → path in the new project. Dot files are kept without their dot: npm leaves a
 * `.gitignore` out of a published package, and one inside this repository would apply to it.
 */
const FILES: readonly (readonly [template: string, target: string])[] = [
  // Not `package.json`: in the template folder it would make a package whose kiln.config.ts cannot import 'kilnjs'.
  ['package.template.json', 'package.json'],
  ['kiln.config.ts', 'kiln.config.ts'],
  ['test/api.test.js', 'test/api.test.js'],
  ['README.md', 'README.md'],
  ['env.example', '.env.example'],
  ['gitignore', '.gitignore'],
  ['Dockerfile', 'Dockerfile'],
  ['compose.yaml', 'compose.yaml'],
  ['dockerignore', '.dockerignore'],
];
/** The first migration is written too, so `npm start`, `npm test` and the image work before any edit. */
const MIGRATIONS = 'migrations';

export async function runInit(options: CliOptions): Promise<number> {
  const shown = options.dir ?? '.';
  const dir = resolve(shown);
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    console.error(`kiln init: ${shown} is a file, not a folder\nGive a folder that is empty or does not exist yet: kiln init <DIR>`);
    return 1;
  }
  const taken = [...FILES.map(([, target]) => target), `${MIGRATIONS}/`].filter((target) => existsSync(join(dir, target)));
  if (taken.length > 0) {
    console.error(
      `kiln init: ${shown} already has ${taken.join(', ')}\nNothing was written. Move ${taken.length === 1 ? 'it' : 'them'} away, or create the project in another folder: kiln init <DIR>`,
    );
    return 1;
  }
  const name = packageName(dir);
  const contents = FILES.map(([template, target]) => [target, render(template, name)] as const);
  // Loaded before anything is written: a failure here leaves the folder as it was.
  const { model, declaration } = await loadModelSource(join(TEMPLATES, 'kiln.config.ts'));
  let migration: string;
  try {
    for (const [target, text] of contents) {
      mkdirSync(join(dir, target, '..'), { recursive: true });
      writeFileSync(join(dir, target), text, { flag: 'wx' });
    }
    const result = await generateMigration({ model, declaration, dir: join(dir, MIGRATIONS), name: 'initial' });
    if (!result.written) throw new Error('the starter model produced no migration');
    migration = relative(dir, result.folder);
  } catch (error) {
    console.error(`kiln init: cannot write the project in ${shown}: ${(error as Error).message}`);
    return 1;
  }
  // The folder as the user named it, unless the relative path is the shorter way to say it.
  const fromHere = relative(process.cwd(), dir);
  const cd = fromHere === '' || fromHere.length <= shown.length ? fromHere : shown;
  console.log(
    [
      `kiln init: created the Kiln project "${name}" in ${shown}`,
      ...contents.map(([target]) => `  ${target}`),
      `  ${migration}/ (up.sql, down.sql, snapshot.json)`,
      '',
      'Next:',
      ...(cd === '' ? [] : [`  cd ${cd.includes(' ') ? JSON.stringify(cd) : cd}`]),
      '  npm install',
      '  npm run dev      # serves the API at http://localhost:3000/v1, docs at /docs',
    ].join('\n'),
  );
  return 0;
}

/** A template's text for this project: package.json gets the name and this Kiln's version, README.md the name. */
function render(template: string, name: string): string {
  const text = readFileSync(join(TEMPLATES, template), 'utf8');
  if (template === 'package.template.json') {
    const pkg = JSON.parse(text) as { name: string; dependencies: Record<string, string> };
    pkg.name = name;
    pkg.dependencies.kilnjs = `^${kilnVersion()}`;
    return `${JSON.stringify(pkg, null, 2)}\n`;
  }
  return text.replaceAll('{{name}}', name);
}

function kilnVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The folder's name as an npm package name: lower case, letters, digits, `-`, `_` and `.`, not starting with `.` or `_`. */
export function packageName(dir: string): string {
  const name = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+|-+$/g, '')
    .slice(0, 214);
  return name === '' || name === 'node_modules' || name === 'favicon.ico' ? 'kiln-api' : name;
}
