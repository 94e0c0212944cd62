/**
 * The fixture's dex on this machine's JVM: the APK built from source, translated by Debian's
 * enjarify, plus the host double of the Android classes it uses (test/apk/host-double/src).
 * Prepared once per test process.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { buildFixture, ROOT, run } from './fixture-build.js';

const HOST_SRC = path.join(ROOT, 'test/apk/host-double/src');

/** enjarify's wrapper picks the first python3 on PATH; Debian's module lives with /usr/bin/python3. */
const ENJARIFY_ENV: NodeJS.ProcessEnv = fs.existsSync('/usr/bin/python3') ? { ...process.env, PYTHON: '/usr/bin/python3' } : process.env;

/** A ready JVM set-up: the class path and a scratch directory. */
export interface FixtureJvm {
  readonly classpath: string;
  readonly work: string;
}

let prepared: Promise<FixtureJvm> | undefined;

/** Builds the APK (memoised), translates its dex, compiles the host double (once). */
export function fixtureJvm(): Promise<FixtureJvm> {
  prepared ??= (async () => {
    const build = await buildFixture();
    assert.equal(build.code, 0, build.stderr);
    const work = path.join(build.outDir, 'jvm');
    fs.mkdirSync(work, { recursive: true });
    const jar = path.join(work, 'app.jar');
    const e = await run('enjarify', ['-f', '-o', jar, build.apk], 120_000, ENJARIFY_ENV);
    assert.equal(e.code, 0, `enjarify failed (scripts/setup-host installs it): ${e.stdout}${e.stderr}`);
    assert.match(e.stdout, /9 classes translated successfully, 0 classes had errors/);
    const classes = path.join(work, 'classes');
    const sources = fs.readdirSync(HOST_SRC, { recursive: true }).map(String).filter((f) => f.endsWith('.java')).map((f) => path.join(HOST_SRC, f));
    const c = await run('javac', ['-nowarn', '-cp', jar, '-d', classes, ...sources]);
    assert.equal(c.code, 0, c.stderr);
    return { classpath: `${classes}:${jar}`, work };
  })();
  return prepared;
}
