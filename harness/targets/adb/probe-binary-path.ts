/**
 * Where the probe for an ABI is built on this machine: `apk-fixtures/probe/build/<abi>/ashmem-probe`
 * (made by `scripts/build-probe`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../package-root.js';
import { ProbeMissingError } from '../target.js';
import { PROBE_NAME } from './probe-command.js';

/** The repository root (the installed package's folder when run from dist/). */
export function repoRoot(): string {
  return packageRoot();
}

/** The built probe for an ABI (the file may not exist). */
export function probeBinaryPath(abi: string, root: string = repoRoot()): string {
  return path.join(root, 'apk-fixtures', 'probe', 'build', abi, PROBE_NAME);
}

/**
 * The first of the device's ABIs (most preferred first) with a built probe.
 * @param forced - use exactly this ABI (it must be in the device's list)
 */
export function chooseProbe(
  serial: string,
  abis: readonly string[],
  forced: string | undefined,
  locate: (abi: string) => string = (abi) => probeBinaryPath(abi),
): { abi: string; file: string } {
  if (forced !== undefined && !abis.includes(forced)) {
    throw new ProbeMissingError(`device ${serial} does not run ABI ${forced} (its ABIs: ${abis.join(', ') || 'none reported'})`);
  }
  const candidates = forced !== undefined ? [forced] : abis;
  for (const abi of candidates) {
    const file = locate(abi);
    if (fs.existsSync(file)) return { abi, file };
  }
  const tried = candidates.map((abi) => locate(abi)).join(', ');
  throw new ProbeMissingError(
    `no probe built for device ${serial} (ABIs ${abis.join(', ') || 'none reported'}); looked for ${tried || 'nothing'}. Run scripts/build-probe.`,
  );
}
