/**
 * One Kiln process per PGlite data folder. PGlite is PostgreSQL running inside the process: two
 * processes on one folder each believe they own its files, and the writes of one are lost. So the
 * folder holds a lock file, created with O_EXCL ('wx'): of two processes, only one can create it. It
 * holds the owner's pid and where that pid means something (host name and PID namespace), and the
 * owner touches it every few seconds while it holds it. The owner removes it when it closes the
 * database or exits. A lock whose owner died (kill -9, a crash, a power cut) is taken over:
 * - from the same PID namespace, at once, when its pid no longer runs;
 * - from another one (a second container on the same volume: its pids are not ours to test, and
 *   both may well be pid 1), once it has not been touched for a while, which a live owner never lets
 *   happen.
 */
import { closeSync, openSync, readFileSync, readlinkSync, realpathSync, statSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { StartupError } from '../config/startup-error.js';

export const LOCK_FILE = 'kiln.lock';
/** Held while a stale lock is checked and removed, so that two processes cannot both remove it. */
const TAKEOVER_FILE = 'kiln.lock.takeover';
/** A takeover guard is held for microseconds; one older than this was left by a process that died. */
const STALE_GUARD_MS = 5000;
/** How often an owner touches its lock. */
export const HEARTBEAT_MS = 2000;
/** A lock from another PID namespace untouched this long has no live owner. */
export const FOREIGN_STALE_MS = 5 * HEARTBEAT_MS;

/** Where this process's pid means something: the host and its PID namespace (Linux); the host alone elsewhere. */
export const PID_SPACE = pidSpace();

function pidSpace(): string {
  try {
    return `${hostname()} ${readlinkSync('/proc/self/ns/pid')}`;
  } catch {
    return hostname();
  }
}

/** Lock files this process holds, by path, with their content and the timer that touches them. */
const held = new Map<string, { content: string; heartbeat: NodeJS.Timeout }>();

export interface LockOptions {
  /** Tests only: how long a foreign lock must stay untouched to be stale. */
  readonly foreignStaleMs?: number;
}

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
export async function lockDataDir(dir: string, options: LockOptions = {}): Promise<DataDirLock> {
  const path = join(realpathSync(dir), LOCK_FILE);
  if (held.has(path)) throw new StartupError(`the data folder ${shownDataDir(dir)} is already open in this process; close it first`);
  const foreignStaleMs = options.foreignStaleMs ?? FOREIGN_STALE_MS;
  const content = `${process.pid}\n${PID_SPACE}\n`;
  // Past a guard's lifetime (and a foreign lock's) every leftover is stale, so waiting longer cannot help.
  const deadline = Date.now() + 2 * STALE_GUARD_MS + foreignStaleMs;
  while (Date.now() < deadline) {
    if (createExclusive(path, content)) {
      hold(path, content);
      return { release: () => release(path) };
    }
    const found = read(path);
    if (found === undefined) continue; // removed meanwhile: try to create it again
    const owner = ownerOf(found);
    if (owner && owner.space !== undefined && owner.space !== PID_SPACE) {
      if (await touchedWithin(path, foreignStaleMs)) {
        throw new StartupError(
          `the data folder ${shownDataDir(dir)} is in use by a Kiln process in another container or PID namespace (pid ${owner.pid} on ${owner.space.split(' ')[0]}). Stop it first, or set KILN_DATA_DIR to another folder.`,
        );
      }
    } else if (owner && owner.pid !== process.pid && isRunning(owner.pid)) {
      throw new StartupError(
        `the data folder ${shownDataDir(dir)} is in use by another Kiln process (pid ${owner.pid}). Stop it first, or set KILN_DATA_DIR to another folder.`,
      );
    }
    if (!removeStale(path, found)) await new Promise((done) => setTimeout(done, 20));
  }
  throw new StartupError(`could not take the lock ${join(shownDataDir(dir), LOCK_FILE)}: other processes keep taking it. Stop them, then start again.`);
}

function hold(path: string, content: string): void {
  const heartbeat = setInterval(() => touch(path, content), HEARTBEAT_MS);
  // The heartbeat must not keep a process alive that has nothing else to do.
  heartbeat.unref();
  held.set(path, { content, heartbeat });
  if (held.size === 1) process.on('exit', releaseAll);
}

/** Marks the lock as alive, if it is still this process's. */
function touch(path: string, content: string): void {
  try {
    if (read(path) !== content) return;
    const now = new Date();
    utimesSync(path, now, now);
  } catch {
    // The folder went away: the database itself reports that.
  }
}

/**
 * Whether a foreign owner is alive: its lock is touched again while this process watches it. It is
 * watched until it has gone `staleMs` untouched (a lock left by a container that died a moment ago is
 * waited out), and always for two heartbeats at least (or `staleMs`, if shorter), by this process's
 * own clock: the owner's host may keep another time, so an old-looking mtime alone proves nothing.
 */
async function touchedWithin(path: string, staleMs: number): Promise<boolean> {
  const first = mtimeOf(path);
  if (first === undefined) return false;
  const untouchedFor = Date.now() - first;
  const watchMs = Math.min(staleMs, Math.max(Math.min(staleMs, 2 * HEARTBEAT_MS), staleMs - untouchedFor));
  const until = performance.now() + watchMs;
  while (performance.now() < until) {
    await new Promise((done) => setTimeout(done, Math.min(250, staleMs / 4)));
    const now = mtimeOf(path);
    if (now === undefined) return false;
    if (now !== first) return true;
  }
  return false;
}

function mtimeOf(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
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
 * The owner in a lock file (its pid, and where that pid means something; a lock written by an older
 * Kiln holds the pid alone), or undefined when it holds none: a file just created whose pid is not yet
 * written, or one left half-written by a crash. The first is taken for running (it will hold a pid in
 * a moment), the second for stale once it is older than a guard's lifetime.
 */
function ownerOf(content: string): { pid: number; space?: string } | undefined {
  const match = /^([1-9]\d*)\n(?:([^\n]+)\n)?$/.exec(content);
  if (!match) return undefined;
  return match[2] === undefined ? { pid: Number(match[1]) } : { pid: Number(match[1]), space: match[2] };
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
  const entry = held.get(path);
  if (entry === undefined) return;
  const { content, heartbeat } = entry;
  clearInterval(heartbeat);
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
