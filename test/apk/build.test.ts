/**
 * The fixture APK builds from source with scripts/build-apk and passes its build-time checks;
 * a typo in the smali fails the build (not a device run), and the API checker catches the
 * mistakes it exists for.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { JAVA_KINDS } from '../../harness/ops/signatures.js';
import { loadApiIndex, type ApiIndex } from '../../scripts/apk/android-api.js';
import { checkApi } from '../../scripts/apk/check-api.js';
import { parseDexDump } from '../../scripts/apk/dex-refs.js';
import { APP_SRC, BUILD_APK, buildFixture, copySources, run, type FixtureBuild } from './support/fixture-build.js';

const PKG = 'dev.ashmemharness.fixture';
const CLASSES = ['Json', 'Lexer', 'MainActivity', 'MfOps', 'Runner', 'ScriptError', 'ScriptInstrumentation', 'Sink', 'SmOps'];

describe('fixture APK build (scripts/build-apk)', function () {
  this.timeout(240_000);
  let build: FixtureBuild;

  before(async () => {
    build = await buildFixture();
  });

  it('builds a signed APK and says OK', () => {
    assert.equal(build.code, 0, `build-apk failed:\n${build.stdout}\n${build.stderr}`);
    assert.match(build.stdout, /API check: OK, \d+ framework references of 9 classes at minSdk 26 \(SmOps at 27\)/);
    assert.equal(build.stdout.trim().split('\n').pop(), build.apk);
    assert.ok(fs.statSync(build.apk).size > 0);
  });

  it('apksigner verify passes and the APK is 4-byte aligned', async () => {
    const v = await run('apksigner', ['verify', '--verbose', build.apk]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^Verifies$/m);
    assert.match(v.stdout, /Verified using v2 scheme \(APK Signature Scheme v2\): true/);
    assert.equal((await run('zipalign', ['-c', '-p', '4', build.apk])).code, 0);
  });

  it('badging shows the package, SDK levels and the launchable activity; the manifest the instrumentation', async () => {
    const b = await run('aapt', ['dump', 'badging', build.apk]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, new RegExp(`^package: name='${PKG}' versionCode='1' versionName='0\\.1\\.0'`, 'm'));
    assert.match(b.stdout, /^sdkVersion:'26'$/m);
    assert.match(b.stdout, /^targetSdkVersion:'29'$/m);
    assert.match(b.stdout, new RegExp(`^launchable-activity: name='${PKG}\\.MainActivity'`, 'm'));
    const x = await run('aapt', ['dump', 'xmltree', build.apk, 'AndroidManifest.xml']);
    assert.match(x.stdout, new RegExp(`E: instrumentation[\\s\\S]*?android:name\\([^)]*\\)="${PKG}\\.ScriptInstrumentation"`));
    assert.match(x.stdout, new RegExp(`android:targetPackage\\([^)]*\\)="${PKG}"`));
  });

  it('the layout carries the resource ids Appium finds', async () => {
    const r = await run('aapt', ['dump', 'resources', build.apk]);
    for (const id of ['script', 'run', 'status', 'results']) assert.match(r.stdout, new RegExp(`${PKG}:id/${id}:`), id);
  });

  it('dexdump lists the expected classes, and an op method for every Java-layer op of the grammar', async () => {
    const d = await run('dexdump', ['-d', build.apk]);
    assert.equal(d.code, 0, d.stderr);
    const descriptors = [...d.stdout.matchAll(/Class descriptor\s+:\s+'([^']+)'/g)].map((m) => m[1]).sort();
    assert.deepEqual(descriptors, CLASSES.map((c) => `Ldev/ashmemharness/fixture/${c};`).sort());
    const dump = parseDexDump((await run('dexdump', ['-a', '-d', build.apk])).stdout);
    const opMethods = new Set<string>();
    for (const cls of ['MfOps', 'SmOps']) {
      for (const m of dump.classes.get(`Ldev/ashmemharness/fixture/${cls};`)?.methods ?? []) {
        if (m.endsWith(':(Ldev/ashmemharness/fixture/Runner;Ljava/util/ArrayList;)Ljava/lang/String;')) opMethods.add(m.split(':')[0] ?? '');
      }
    }
    // The APK dispatches by reflection on the op's name: the grammar and the dex must agree exactly.
    assert.deepEqual([...opMethods].sort(), [...JAVA_KINDS].sort());
  });

  it('a typo in a smali method name fails the build at the API check', async () => {
    const src = copySources();
    const mf = path.join(src, 'smali/dev/ashmemharness/fixture/MfOps.smali');
    const text = fs.readFileSync(mf, 'utf8');
    assert.ok(text.includes('Landroid/os/MemoryFile;->readBytes([BIII)I'));
    fs.writeFileSync(mf, text.replace('Landroid/os/MemoryFile;->readBytes([BIII)I', 'Landroid/os/MemoryFile;->readByts([BIII)I'));
    const r = await run(BUILD_APK, ['--src', src, '--out', path.join(src, 'build')]);
    assert.equal(r.code, 1, `a typo must fail the build:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /API check: dev\.ashmemharness\.fixture\.MfOps uses android\.os\.MemoryFile\.readByts\(\[BIII\)I: no such method/);
    assert.match(r.stderr, /build-apk: API check failed/);
    assert.doesNotMatch(r.stdout, /build-apk: OK/);
  });

  it('a smali syntax error fails the build at smali assemble', async () => {
    const src = copySources();
    const sink = path.join(src, 'smali/dev/ashmemharness/fixture/Sink.smali');
    fs.writeFileSync(sink, fs.readFileSync(sink, 'utf8').replace('.end method', '.end methd'));
    const r = await run(BUILD_APK, ['--src', src, '--out', path.join(src, 'build')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /smali assemble failed/);
  });

  it('the source tree holds no key material', () => {
    const files = fs.readdirSync(APP_SRC, { recursive: true }).map(String);
    assert.deepEqual(files.filter((f) => /\.(keystore|jks|pk8|p12)$/.test(f) && !f.startsWith('build')), []);
  });
});

describe('API check (scripts/check-apk-api.ts) on variants of the fixture dex', function () {
  this.timeout(240_000);
  let index: ApiIndex;

  before(() => {
    index = loadApiIndex();
  });

  /** Assembles the fixture's smali with one edit, then checks its dex at minSdk 26. */
  async function checkVariant(file: string, from: string, to: string): Promise<string[]> {
    const src = copySources();
    const p = path.join(src, 'smali/dev/ashmemharness/fixture', file);
    const text = fs.readFileSync(p, 'utf8');
    assert.ok(text.includes(from), `${file} has no "${from}"`);
    fs.writeFileSync(p, text.replace(from, to));
    const dex = path.join(src, 'classes.dex');
    const a = await run('smali', ['assemble', '--api', '26', '-o', dex, path.join(src, 'smali')]);
    assert.equal(a.code, 0, a.stderr);
    const dump = parseDexDump((await run('dexdump', ['-a', '-d', dex])).stdout);
    return checkApi(dump, index, 26).problems.map((p) => p.message);
  }

  it('reads the same index from its cache as from a fresh parse of the declarations', () => {
    const fresh = loadApiIndex(undefined, null);
    assert.equal(index.classes.size, fresh.classes.size);
    for (const name of ['android/os/SharedMemory', 'android/os/Build$VERSION', 'java/nio/ByteBuffer', 'android/app/Instrumentation']) {
      assert.deepEqual(index.classes.get(name), fresh.classes.get(name), name);
    }
    assert.equal(index.binaryName('android.os.Build.VERSION'), 'android/os/Build$VERSION');
    assert.equal(fresh.binaryName('android.view.View.OnClickListener'), index.binaryName('android.view.View.OnClickListener'));
  });

  it('passes the fixture as it is', async () => {
    assert.deepEqual(await checkVariant('Sink.smali', 'emit', 'emit'), []);
  });

  it('holds SharedMemory to API 27 through the TargetApi annotation; without it, minSdk 26 fails', async () => {
    const problems = await checkVariant('SmOps.smali', '.annotation build Landroid/annotation/TargetApi;\n    value = 0x1b\n.end annotation', '');
    assert.ok(problems.includes('android.os.SharedMemory: added in API 27, above 26'), problems.join('\n'));
    assert.ok(problems.includes('android.os.SharedMemory.create(Ljava/lang/String;I)Landroid/os/SharedMemory;: added in API 27, above 26'));
  });

  it('catches the covariant-return trap: position(I) of ByteBuffer returns Buffer on the levels declared', async () => {
    const problems = await checkVariant('SmOps.smali', 'invoke-virtual {v1, v0, v4}, Ljava/nio/ByteBuffer;->put(IB)Ljava/nio/ByteBuffer;',
      'invoke-virtual {v1, v0}, Ljava/nio/ByteBuffer;->position(I)Ljava/nio/ByteBuffer;');
    assert.equal(problems.length, 1, problems.join('\n'));
    // The declarations have only position(int): Buffer (javac 9+ emits the ByteBuffer form, which
    // throws NoSuchMethodError on older devices): flagged as missing, with what is declared.
    assert.match(problems[0] ?? '', /^java\.nio\.ByteBuffer\.position\(I\)Ljava\/nio\/ByteBuffer;: no such method in the Android API \(declared: .*position\(number\): java\.nio\.Buffer/);
  });

  it('catches a wrong field type and a class that does not exist', async () => {
    const field = await checkVariant('Runner.smali', 'Landroid/os/Build$VERSION;->RELEASE:Ljava/lang/String;', 'Landroid/os/Build$VERSION;->RELEASE:I');
    assert.deepEqual(field, ['android.os.Build$VERSION.RELEASE:I: no such field in the Android API']);
    const name = await checkVariant('Runner.smali', 'Landroid/os/Build$VERSION;->SDK_INT:I', 'Landroid/os/Build$VERSION;->SDK:I');
    assert.deepEqual(name, ['android.os.Build$VERSION.SDK:I: no such field in the Android API']);
    const cls = await checkVariant('MfOps.smali', 'new-instance v3, Landroid/os/MemoryFile;', 'new-instance v3, Landroid/os/MemoryFiles;');
    assert.ok(cls.includes('android.os.MemoryFiles: no such class in the Android API'), cls.join('\n'));
  });

  it('resolves inherited framework methods through the fixture\'s own classes (Activity, Instrumentation, Bundle)', async () => {
    const problems = await checkVariant('MainActivity.smali', 'Ldev/ashmemharness/fixture/MainActivity;->getFilesDir()Ljava/io/File;',
      'Ldev/ashmemharness/fixture/MainActivity;->getFilesDirs()Ljava/io/File;');
    assert.deepEqual(problems, ['android.app.Activity.getFilesDirs()Ljava/io/File;: no such method in the Android API (no method named "getFilesDirs" in android.app.Activity or its supertypes)']);
  });
});
