/**
 * The vm cache: Debian kernel packages, the kernels and modules taken out of them, and the
 * initramfs images built from them, under one folder. Every entry is built in a temporary
 * sibling and renamed into place, so a reader never sees half an entry, and a lock file keeps
 * two runs that start at once from building the same entry twice.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TargetError } from '../target.js';

/** Environment variable naming the cache folder (below `--vm-cache`, above the XDG default). */
export const CACHE_ENV = 'ASHMEM_HARNESS_CACHE';

/** The cache could not be written (full disk, read-only folder). */
export class VmCacheError extends TargetError {
  override readonly name = 'VmCacheError';
}

/**
 * The cache folder: `--vm-cache`, else `$ASHMEM_HARNESS_CACHE`, else
 * `$XDG_CACHE_HOME/ashmem-harness`, else `~/.cache/ashmem-harness`.
 */
export function vmCacheRoot(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag !== undefined && flag !== '') return path.resolve(flag);
  const fromEnv = env[CACHE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return path.resolve(fromEnv);
  const xdg = env['XDG_CACHE_HOME'];
  const base = xdg !== undefined && xdg !== '' ? xdg : path.join(os.homedir(), '.cache');
  return path.join(base, 'ashmem-harness');
}

/** Turns a file-system failure into one line naming the cache and what to do. */
export function cacheFailure(root: string, e: unknown): VmCacheError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new VmCacheError(`the vm cache at ${root} is full (${code}): free some space or point --vm-cache (or ${CACHE_ENV}) at another disk`);
  if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') return new VmCacheError(`the vm cache at ${root} is not writable (${code}): point --vm-cache (or ${CACHE_ENV}) at a writable folder`);
  return new VmCacheError(`the vm cache at ${root} failed: ${e instanceof Error ? e.message : String(e)}`);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Holds `<file>.lock` while `work` runs. A lock whose owner died is taken over; waiting is
 * bounded by `waitMs` (a build by another run that takes longer is an error, not a hang).
 */
export async function withLock<T>(file: string, waitMs: number, onWait: (() => void) | undefined, work: () => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    try {
      fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw cacheFailure(path.dirname(file), e);
      const owner = Number.parseInt(fs.readFileSync(lock, { encoding: 'utf8', flag: 'a+' }).trim(), 10);
      if (Number.isSafeInteger(owner) && owner > 0 && owner !== process.pid && !pidAlive(owner)) {
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new VmCacheError(`timed out waiting for ${lock} (held by pid ${owner}): another run is filling the vm cache; wait for it or remove the lock if that process is gone`);
      if (!told) {
        onWait?.();
        told = true;
      }
      await sleep(250);
    }
  }
  try {
    return await work();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/**
 * Builds a cache entry (a file or folder) at `final` unless it is there already: `build` fills a
 * temporary path, which is then renamed into place; on failure nothing is left behind.
 * @returns `final`
 */
export async function cachedEntry(final: string, waitMs: number, onWait: (() => void) | undefined, build: (tmp: string) => Promise<void>): Promise<string> {
  if (fs.existsSync(final)) return final;
  const root = path.dirname(final);
  try {
    fs.mkdirSync(root, { recursive: true });
  } catch (e) {
    throw cacheFailure(root, e);
  }
  return withLock(final, waitMs, onWait, async () => {
    if (fs.existsSync(final)) return final; // another run built it while we waited
    const tmp = `${final}.tmp-${process.pid}-${Date.now().toString(36)}`;
    try {
      await build(tmp);
      fs.renameSync(tmp, final);
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      if (e instanceof TargetError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== undefined) throw cacheFailure(root, e);
      throw e;
    }
    return final;
  });
}

/** Removes temporary entries left by runs that died mid-build (their owners are gone). */
export function sweepStale(dir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /\.tmp-(\d+)-[0-9a-z]+$/.exec(name);
    if (m?.[1] !== undefined && !pidAlive(Number(m[1]))) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}
