/**
 * Builds the fixture APK once per test process with scripts/build-apk (into a temp dir, so a
 * developer's apk-fixtures/memoryfile-app/build is never touched), and runs the tools the tests
 * read it with.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** The fixture's source directory. */
export const APP_SRC = path.join(ROOT, 'apk-fixtures/memoryfile-app');
/** The build script. */
export const BUILD_APK = path.join(ROOT, 'scripts/build-apk');

/** What a command printed and how it exited. */
export interface Ran { readonly code: number; readonly stdout: string; readonly stderr: string }

/**
 * Runs a command to completion (bounded), never throwing on a non-zero exit.
 * @param cmd - program
 * @param args - arguments
 * @param timeoutMs - bound
 */
export function run(cmd: string, args: readonly string[], timeoutMs = 120_000, env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 256 << 20, cwd: ROOT, env }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A finished build: the APK path and the build's output. */
export interface FixtureBuild extends Ran { readonly apk: string; readonly outDir: string }

let built: Promise<FixtureBuild> | undefined;

/** Temp dirs made here, removed when the test process exits. */
const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Builds the fixture from source once (memoised for the whole mocha process). */
export function buildFixture(): Promise<FixtureBuild> {
  built ??= (async () => {
    const outDir = tempDir('ashmem-apk-');
    const r = await run(BUILD_APK, ['--out', outDir]);
    return { ...r, apk: path.join(outDir, 'memoryfile-app.apk'), outDir };
  })();
  return built;
}

/**
 * Copies the fixture's sources (without build output) into a fresh temp dir.
 * @returns the copy's directory
 */
export function copySources(): string {
  const dir = tempDir('ashmem-apk-src-');
  fs.cpSync(APP_SRC, dir, { recursive: true, filter: (src) => path.basename(src) !== 'build' });
  return dir;
}
