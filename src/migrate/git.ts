/**
 * Which migrations are committed, for `kiln migrate squash`: a migration is committed when its folder
 * is in git's current commit (HEAD). Everything else (new folders, folders only staged) exists on
 * this machine alone, so it can still be merged without rewriting anyone else's history.
 */
import { execFileSync } from 'node:child_process';
import { relative } from 'node:path';
import { MigrateError } from './errors.js';

function git(dir: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new MigrateError('git is not installed (or not on PATH): kiln migrate squash asks git which migrations are committed');
    }
    return undefined;
  }
}

/** Names of the folders in `dir` that HEAD holds; throws when `dir` is not in a git work tree. */
export function committedFolders(dir: string): Set<string> {
  if (git(dir, ['rev-parse', '--is-inside-work-tree'])?.trim() !== 'true') {
    const shown = relative(process.cwd(), dir) || '.';
    throw new MigrateError(
      `${shown} is not in a git repository, so Kiln cannot tell which migrations are not committed yet. ` +
        'kiln migrate squash merges the migration folders that are not in the last commit; without git, revert the migrations ' +
        'you want to merge with "kiln migrate down N", delete their folders and run "kiln migrate generate".',
    );
  }
  // A repository without a commit yet has nothing committed.
  if (git(dir, ['rev-parse', '--verify', '--quiet', 'HEAD']) === undefined) return new Set();
  const paths = git(dir, ['ls-tree', '-r', '--name-only', '-z', 'HEAD', '--', '.']) ?? '';
  return new Set(
    paths
      .split('\0')
      .filter(Boolean)
      .map((p) => p.split('/')[0] as string),
  );
}
