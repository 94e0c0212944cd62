/**
 * The real-driver samples of `shared/real-driver-samples/` (two real drivers, recorded in a
 * fresh 6.1 guest as root): scripts and their exact results, read as they are.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpResult } from '../../harness/ops/result.js';

/** Where the samples are: `../shared` beside the checkout (CI lays a copy there), or $ASHMEM_SHARED. */
export function sharedDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [process.env.ASHMEM_SHARED, path.join(here, '..', '..', '..', 'shared')].filter((x): x is string => x !== undefined);
  for (const c of candidates) if (fs.existsSync(path.join(c, 'real-driver-samples'))) return c;
  throw new Error(`real-driver samples not found (looked in ${candidates.join(', ')}): set ASHMEM_SHARED to the shared/ folder`);
}

/** The two drivers and the profile that stands for each. */
export const DRIVERS = [
  { dir: 'c-pre2019', profile: 'c-pre2019' },
  { dir: 'ack-c-5.10', profile: 'ack-c' },
] as const;

/** The five scenarios. */
export const SAMPLES = ['01-before-mmap', '06-purge-all-basic', '07-merge-purged-flag', '30-messy-pinning', '31-lru-oldest-128'] as const;

/** A sample's script text. */
export function sampleScript(name: string): string {
  return fs.readFileSync(path.join(sharedDir(), 'real-driver-samples', `${name}.ops`), 'utf8');
}

/** A sample's recorded results on one driver. */
export function sampleResults(driver: string, name: string): OpResult[] {
  const text = fs.readFileSync(path.join(sharedDir(), 'real-driver-samples', driver, `${name}.jsonl`), 'utf8');
  return text.trim().split('\n').map((l) => JSON.parse(l) as OpResult);
}
