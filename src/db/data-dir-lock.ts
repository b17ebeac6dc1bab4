/**
 * One Kiln process per PGlite data folder. PGlite is PostgreSQL running inside the process: two
 * processes on one folder each believe they own its files, and the writes of one are lost. So the
 * folder holds a lock file with the owner's pid, created with O_EXCL ('wx'): of two processes, only one
 * can create it. The owner removes it when it closes the database or exits. A process that dies
 * without removing it (kill -9, a crash, a power cut) leaves a pid that no longer runs: the next
 * process takes the lock over.
 */
import { closeSync, openSync, readFileSync, realpathSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { StartupError } from '../config/startup-error.js';

export const LOCK_FILE = 'kiln.lock';
/** Held while a stale lock is checked and removed, so that two processes cannot both remove it. */
const TAKEOVER_FILE = 'kiln.lock.takeover';
/** A takeover guard is held for microseconds; one older than this was left by a process that died. */
const STALE_GUARD_MS = 5000;

/**
 * Lock files this process holds, by path, with their content. A lock file holding this process's pid
 * that is not listed here is stale: a container restarted after a crash runs Kiln under the same pid.
 */
const held = new Map<string, string>();

export interface DataDirLock {
  /** Removes the lock file; calling it again does nothing. */
  release(): void;
}

/** The data folder as the user wrote it, relative ones marked `./`, as messages and the banner show it. */
export function shownDataDir(dir: string): string {
  if (dir === 'memory') return 'memory';
  return isAbsolute(dir) || dir.startsWith('./') || dir.startsWith('../') ? dir : `./${dir}`;
}

/** Takes the lock of an existing data folder, or throws StartupError naming the process that holds it. */
export async function lockDataDir(dir: string): Promise<DataDirLock> {
  const path = join(realpathSync(dir), LOCK_FILE);
  if (held.has(path)) throw new StartupError(`the data folder ${shownDataDir(dir)} is already open in this process; close it first`);
  const content = `${process.pid}\n`;
  // Past a guard's lifetime every leftover is stale, so waiting longer than that cannot help.
  const deadline = Date.now() + 2 * STALE_GUARD_MS;
  while (Date.now() < deadline) {
    if (createExclusive(path, content)) {
      held.set(path, content);
      if (held.size === 1) process.on('exit', releaseAll);
      return { release: () => release(path) };
    }
    const found = read(path);
    if (found === undefined) continue; // removed meanwhile: try to create it again
    const owner = ownerOf(found);
    if (owner !== undefined && owner !== process.pid && isRunning(owner)) {
      throw new StartupError(
        `the data folder ${shownDataDir(dir)} is in use by another Kiln process (pid ${owner}). Stop it first, or set KILN_DATA_DIR to another folder.`,
      );
    }
    if (!removeStale(path, found)) await new Promise((done) => setTimeout(done, 20));
  }
  throw new StartupError(`could not take the lock ${join(shownDataDir(dir), LOCK_FILE)}: other processes keep taking it. Stop them, then start again.`);
}

function createExclusive(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The pid in a lock file, or undefined when it holds none: a file just created whose pid is not yet
 * written, or one left half-written by a crash. The first is taken for running (it will hold a pid in
 * a moment), the second for stale once it is older than a guard's lifetime.
 */
function ownerOf(content: string): number | undefined {
  return /^[1-9]\d*\n$/.test(content) ? Number(content) : undefined;
}

/** Signal 0 tests that a process exists; EPERM means it does, under another user. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes a stale lock file if it still holds `stale`, under the takeover guard: without it, a second
 * process that read the same stale content could remove the lock the first has created since.
 * Returns false when it had to wait (the guard is held, or an empty lock file is still being written).
 */
function removeStale(path: string, stale: string): boolean {
  if (ownerOf(stale) === undefined && !olderThan(path, STALE_GUARD_MS)) return false;
  const guard = `${path.slice(0, -LOCK_FILE.length)}${TAKEOVER_FILE}`;
  if (!createExclusive(guard, `${process.pid}\n`)) {
    if (olderThan(guard, STALE_GUARD_MS)) unlinkQuietly(guard);
    return false;
  }
  try {
    if (read(path) === stale) unlinkQuietly(path);
  } finally {
    unlinkQuietly(guard);
  }
  return true;
}

function olderThan(path: string, ms: number): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > ms;
  } catch {
    return false;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Removes the lock file if it is still this process's: a process never removes another's lock. */
function release(path: string): void {
  const content = held.get(path);
  if (content === undefined) return;
  held.delete(path);
  if (held.size === 0) process.off('exit', releaseAll);
  try {
    if (read(path) === content) unlinkSync(path);
  } catch {
    // The folder is gone or unwritable: the pid left behind is taken over once this process ends.
  }
}

function releaseAll(): void {
  for (const path of [...held.keys()]) release(path);
}
