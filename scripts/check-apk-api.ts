/**
 * Build-time API check of an APK or dex: every framework class, method and field its code
 * references must exist at minSdk (read from `aapt dump badging` for an APK, or `--min-sdk N`).
 *
 *   tsx scripts/check-apk-api.ts build/memoryfile-app.apk
 *   tsx scripts/check-apk-api.ts classes.dex --min-sdk 26
 *
 * Exit 0 when every reference resolves, 1 with one line per problem, 2 on a usage or tool error.
 */
import { execFileSync } from 'node:child_process';
import { loadApiIndex } from './apk/android-api.js';
import { checkApi } from './apk/check-api.js';
import { parseDexDump } from './apk/dex-refs.js';

/** A required tool failed or the arguments were wrong. */
export class CheckUsageError extends Error {
  override readonly name = 'CheckUsageError';
}

function run(cmd: string, args: readonly string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new CheckUsageError(`${cmd} ${args.join(' ')} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Reads minSdk from an APK's badging.
 * @param apk - path of the APK
 */
export function minSdkOf(apk: string): number {
  const m = /^sdkVersion:'(\d+)'/m.exec(run('aapt', ['dump', 'badging', apk]));
  if (m?.[1] === undefined) throw new CheckUsageError(`no sdkVersion in the badging of ${apk}`);
  return Number(m[1]);
}

function main(argv: readonly string[]): number {
  const file = argv.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
  const at = argv.indexOf('--min-sdk');
  if (file === undefined) throw new CheckUsageError('usage: check-apk-api <app.apk | classes.dex> [--min-sdk N]');
  const minSdk = at >= 0 ? Number(argv[at + 1]) : file.endsWith('.apk') ? minSdkOf(file) : Number.NaN;
  if (!Number.isInteger(minSdk)) throw new CheckUsageError('pass --min-sdk N for a dex file');
  const dump = parseDexDump(run('dexdump', ['-a', '-d', file]));
  const report = checkApi(dump, loadApiIndex(), minSdk);
  const floors = [...report.floors].map(([c, l]) => `${c.slice(1, -1).split('/').pop() ?? c} at ${l}`).join(', ');
  const scope = `${report.frameworkRefs} framework references of ${dump.classes.size} classes at minSdk ${minSdk}${floors === '' ? '' : ` (${floors})`}`;
  if (report.problems.length === 0) {
    console.log(`API check: OK, ${scope}`);
    return 0;
  }
  for (const p of report.problems) console.error(`API check: ${p.ref.from.slice(1, -1).replaceAll('/', '.')} uses ${p.message}`);
  console.error(`API check: FAILED, ${report.problems.length} problem(s) in ${scope}`);
  return 1;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  console.error(`API check: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 2;
}
