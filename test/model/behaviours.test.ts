/**
 * Named model tests for the behaviours of `ashmem-semantics.md` (issue 2), run from the
 * conformance scenarios themselves (issue 6): no second copy of the scripts.
 *
 * Each scenario's op lines may carry spec expectations, written by hand from the spec text (not
 * from model output), as trailing comments:
 *
 *   status_null r0                 # spec[c-pre2019]: EINVAL; spec[c-final ack-c ack-rust]: EFAULT
 *   check m0 0 8192                # spec: rle [[0,4096],[165,4096]]
 *
 * `spec:` applies to every profile the scenario is checked under (its `# profiles:` header, else
 * {@link DEFAULT_PROFILES}); `spec[p q]:` to the named ones. An expectation is `ret N`, an errno
 * name, a signal name, `rle [[byte,count],...]` (a check: implies ret 0), `ret N rle [...]` (a
 * read) or `name "..." copied N` (GET_NAME: implies ret 0). The model runs under
 * DEFAULT_ENVIRONMENT unless the scenario's header has `# env: ...` (see conformance/README.md).
 *
 * One test per scenario and profile, named `§3.6 <title> [c-final]`: a single prediction must
 * match exactly on the annotated fields, a `oneOf` prediction must contain a match.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { predict, type Prediction } from '../../harness/check/predict.js';
import { checkedProfiles, DEFAULT_PROFILES, scenarioEnvironment } from '../../harness/check/scenario-env.js';
import { DEFAULT_ENVIRONMENT, PROFILES, profileById } from '../../harness/model/profile.js';
import { parseScript } from '../../harness/ops/parse.js';
import type { ByteRun, OpResult } from '../../harness/ops/result.js';
import { CONFORMANCE_DIR, parseSection, readScenarios, type ScenarioHeader } from '../../scripts/conformance-index.js';

const SCENARIOS = join(CONFORMANCE_DIR, 'scenarios');


// ---------------------------------------------------------------------------------------------
// Annotations

/** What the spec says one op gives. */
export type Expect =
  | { readonly kind: 'ret'; readonly ret: number; readonly rle?: readonly ByteRun[] }
  | { readonly kind: 'errno'; readonly errno: string }
  | { readonly kind: 'signal'; readonly signal: string }
  | { readonly kind: 'rle'; readonly rle: readonly ByteRun[] }
  | { readonly kind: 'name'; readonly name: string; readonly copied: number };

/** One `spec[...]: <expect>` group; `profiles` undefined means every profile checked. */
export interface SpecGroup {
  readonly profiles?: readonly string[];
  readonly expect: Expect;
}

/** The annotation of one op line. */
export interface Annotation {
  readonly line: number;
  readonly groups: readonly SpecGroup[];
}

/** An annotation (or `# env:` header) that does not follow the format. */
export class AnnotationError extends Error {
  override readonly name = 'AnnotationError';
  constructor(readonly file: string, readonly line: number, problem: string) {
    super(`${file}:${line}: ${problem}`);
  }
}

/** Where the comment of an op line starts (`#` outside a string), or -1. */
function commentStart(line: string): number {
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '#') return i;
  }
  return -1;
}

/** A cursor over one annotation's text; every failure names the column. */
class Cursor {
  pos = 0;
  constructor(readonly text: string, private readonly fail: (msg: string) => never) {}

  get done(): boolean { return this.pos >= this.text.length; }

  skipSpace(): void {
    while (!this.done && /\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  error(msg: string): never {
    return this.fail(`${msg} at "${this.text.slice(this.pos, this.pos + 20)}" (column ${this.pos + 1} of the annotation)`);
  }

  take(re: RegExp, what: string): string {
    const m = re.exec(this.text.slice(this.pos));
    if (m === null || m.index !== 0) return this.error(`expected ${what}`);
    this.pos += m[0].length;
    return m[0];
  }

  peek(re: RegExp): boolean {
    const m = re.exec(this.text.slice(this.pos));
    return m !== null && m.index === 0;
  }

  integer(what: string): number {
    const t = this.take(/-?(0x[0-9a-fA-F]+|[0-9]+)/, what);
    const n = t.startsWith('-') ? -Number(t.slice(1)) : Number(t);
    if (!Number.isSafeInteger(n)) return this.error(`${what} out of range`);
    return n;
  }

  runs(): ByteRun[] {
    const t = this.take(/\[\s*(\[\s*[0-9]+\s*,\s*[0-9]+\s*\]\s*(,\s*\[\s*[0-9]+\s*,\s*[0-9]+\s*\]\s*)*)?\]/, 'byte runs [[byte,count],...]');
    const parsed: unknown = JSON.parse(t);
    const out: ByteRun[] = [];
    for (const pair of parsed as [number, number][]) {
      const [b, n] = pair;
      if (b > 255 || n <= 0) return this.error(`bad run [${b},${n}] (byte 0-255, count > 0)`);
      out.push([b, n]);
    }
    return out;
  }

  /** A double-quoted string with the op-script escapes and an optional `*N` repeat. */
  string(): string {
    if (this.text[this.pos] !== '"') return this.error('expected a double-quoted string');
    let out = '';
    this.pos++;
    for (;;) {
      if (this.done) return this.error('unterminated string');
      const c = this.text[this.pos] as string;
      if (c === '"') { this.pos++; break; }
      if (c === '\\') {
        const e = this.text[this.pos + 1];
        if (e === '\\' || e === '"') out += e;
        else if (e === 'n') out += '\n';
        else if (e === 't') out += '\t';
        else if (e === '0') out += '\0';
        else if (e === 'x') {
          const hex = this.text.slice(this.pos + 2, this.pos + 4);
          if (!/^[0-9a-fA-F]{2}$/.test(hex)) return this.error('expected two hex digits after \\x');
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 2;
        } else return this.error(`unknown escape \\${e ?? ''}`);
        this.pos += 2;
      } else {
        const code = c.codePointAt(0) as number;
        const ch = String.fromCodePoint(code);
        if (code < 0x80) out += ch;
        else for (const b of new TextEncoder().encode(ch)) out += String.fromCharCode(b);
        this.pos += ch.length;
      }
    }
    if (this.peek(/\*/)) {
      this.pos++;
      const n = this.integer('a repeat count');
      if (n < 1) return this.error('a repeat count must be at least 1');
      out = out.repeat(n);
    }
    return out;
  }

  expect(): Expect {
    const word = this.take(/[A-Za-z][A-Za-z0-9_]*/, 'ret, rle, name, an errno or a signal');
    if (word === 'ret') {
      this.skipSpace();
      const ret = this.integer('a return value');
      this.skipSpace();
      if (this.peek(/rle\b/)) {
        this.take(/rle/, 'rle');
        this.skipSpace();
        return { kind: 'ret', ret, rle: this.runs() };
      }
      return { kind: 'ret', ret };
    }
    if (word === 'rle') {
      this.skipSpace();
      return { kind: 'rle', rle: this.runs() };
    }
    if (word === 'name') {
      this.skipSpace();
      const name = this.string();
      this.skipSpace();
      this.take(/copied\b/, '"copied N" after the name');
      this.skipSpace();
      return { kind: 'name', name, copied: this.integer('a byte count') };
    }
    if (/^E[A-Z0-9]+$/.test(word)) return { kind: 'errno', errno: word };
    if (/^SIG[A-Z0-9]+$/.test(word)) return { kind: 'signal', signal: word };
    return this.error(`"${word}" is not ret, rle, name, an errno (E...) or a signal (SIG...)`);
  }
}

/**
 * Parses the text of one annotation, from its `#` on: `# spec: X` or `# spec[p q]: X; spec[r]: Y`.
 * @param text - the annotation
 * @param known - the profiles the scenario is checked under (a group may name only these)
 * @param fail - reports a problem (throws)
 */
export function parseSpecComment(text: string, known: readonly string[], fail: (msg: string) => never): SpecGroup[] {
  const c = new Cursor(text, fail);
  c.take(/#\s*/, '"#"');
  const groups: SpecGroup[] = [];
  const seen = new Set<string>();
  for (;;) {
    c.take(/spec/, '"spec"');
    let profiles: string[] | undefined;
    if (c.peek(/\[/)) {
      const inner = c.take(/\[[^\]]*\]/, '"[profile ...]"').slice(1, -1).trim();
      profiles = inner.split(/\s+/).filter((p) => p !== '');
      if (profiles.length === 0) return c.error('an empty profile list');
      for (const p of profiles) {
        if (!known.includes(p)) return c.error(`profile "${p}" is not one this scenario is checked under (${known.join(' ')})`);
        if (seen.has(p)) return c.error(`profile "${p}" appears in two groups`);
        seen.add(p);
      }
    } else if (groups.length > 0) return c.error('"spec:" (every profile) cannot follow another group');
    c.take(/:/, '":" after spec');
    c.skipSpace();
    groups.push(profiles === undefined ? { expect: c.expect() } : { profiles, expect: c.expect() });
    c.skipSpace();
    if (c.done) break;
    c.take(/;/, '";" before the next group, or the end of the line');
    c.skipSpace();
    if (profiles === undefined) return c.error('"spec:" (every profile) must be the only group');
  }
  return groups;
}

const SPEC_START = /#\s*spec(?=[[:])/;
const SPEC_MENTION = /\bspec\s*[[:]/;

/**
 * Reads every `# spec` annotation of a scenario.
 * @param text - the scenario
 * @param file - its name, for messages
 * @param known - the profiles it is checked under
 * @throws {@link AnnotationError} with file:line for anything unparsable or misplaced
 */
export function parseAnnotations(text: string, file: string, known: readonly string[]): Annotation[] {
  const out: Annotation[] = [];
  text.split('\n').forEach((raw, idx) => {
    const line = idx + 1;
    const fail = (msg: string): never => { throw new AnnotationError(file, line, msg); };
    const cs = commentStart(raw);
    if (cs < 0) return;
    const comment = raw.slice(cs);
    const m = SPEC_START.exec(comment);
    if (m === null) {
      if (SPEC_MENTION.test(comment)) fail('a spec annotation must read "# spec: ..." or "# spec[profiles]: ..."');
      return;
    }
    if (raw.slice(0, cs).trim() === '') fail('a spec annotation must follow an op on the same line');
    const groups = parseSpecComment(comment.slice(m.index), known, fail);
    out.push({ line, groups });
  });
  return out;
}


// ---------------------------------------------------------------------------------------------
// Matching

function runsEqual(a: readonly ByteRun[] | undefined, b: readonly ByteRun[]): boolean {
  return a !== undefined && a.length === b.length && a.every((r, i) => r[0] === b[i]?.[0] && r[1] === b[i]?.[1]);
}

/** True when a result has exactly the annotated fields' values. */
export function matches(e: Expect, r: OpResult): boolean {
  switch (e.kind) {
    case 'ret': return r.ret === e.ret && (e.rle === undefined || runsEqual(r.rle, e.rle));
    case 'errno': return r.errno === e.errno;
    case 'signal': return r.signal === e.signal;
    case 'rle': return r.ret === 0 && runsEqual(r.rle, e.rle);
    case 'name': return r.ret === 0 && r.name === e.name && r.copied === e.copied;
  }
}

/** True when a prediction fits the expectation (a `oneOf` must contain a fitting result). */
export function predictionMatches(e: Expect, p: Prediction): boolean {
  return 'oneOf' in p ? p.oneOf.some((r) => matches(e, r)) : matches(e, p);
}

function show(p: Prediction | undefined): string {
  return p === undefined ? 'no prediction' : JSON.stringify(p, (k, v: unknown) => (k === 'admits' ? undefined : v));
}

/** The expectation of a line for one profile, if any group names it. */
function expectFor(a: Annotation, profile: string): Expect | undefined {
  return a.groups.find((g) => g.profiles === undefined || g.profiles.includes(profile))?.expect;
}

// ---------------------------------------------------------------------------------------------
// Scenarios that are knowingly left unannotated, and where the model knowingly disagrees

/** Scenarios of the required sections with no annotation at all, with the reason. */
const UNANNOTATED: Readonly<Record<string, string>> = {};

/** A line where the model's prediction differs from what the spec text says (a possible model bug). */
interface KnownDisagreement {
  readonly file: string;
  readonly line: number;
  readonly profiles: readonly string[];
  readonly section: string;
  /** What the spec says, in the annotation grammar (`EINVAL`, `ret 0`, ...). */
  readonly spec: string;
  /** What the model predicts, in the same grammar. */
  readonly model: string;
  /** Why the spec reads that way. */
  readonly reading: string;
}

const KNOWN_DISAGREEMENTS: readonly KnownDisagreement[] = [];

// ---------------------------------------------------------------------------------------------

const REQUIRED_MAJOR = new Set([3, 4, 5, 10, 12]);
const isRequired = (h: ScenarioHeader): boolean => REQUIRED_MAJOR.has(parseSection(h.section)?.[0] ?? 0);
const text = (f: string): string => readFileSync(join(SCENARIOS, f), 'utf8');

const headers = readScenarios(SCENARIOS);

describe('model behaviours: the conformance scenarios\' spec annotations through predict', () => {
  for (const h of headers) {
    for (const profile of checkedProfiles(h)) {
      it(`${h.section} ${h.title} [${profile}]`, () => {
        const src = text(h.file);
        const annotations = parseAnnotations(src, h.file, checkedProfiles(h));
        const env = scenarioEnvironment(src, h.file);
        const predictions = predict(parseScript(src), profileById(profile), env);
        const byLine = new Map(predictions.map((p) => [p.i, p]));
        let checked = 0;
        const failures: string[] = [];
        for (const a of annotations) {
          const e = expectFor(a, profile);
          if (e === undefined) continue;
          checked++;
          const p = byLine.get(a.line);
          if (p === undefined || !predictionMatches(e, p)) {
            failures.push(`${h.file}:${a.line}: spec says ${JSON.stringify(e)}, the model predicts ${show(p)}`);
          }
        }
        assert.deepEqual(failures, [], failures.join('\n'));
        if (isRequired(h) && UNANNOTATED[h.file] === undefined) {
          assert.ok(checked > 0, `${h.file}: no spec annotation applies to ${profile}, so this test would check nothing`);
        }
      });
    }
  }

  it('annotate every scenario of §3–§5 (incl. §4.6, §4.7), §10 and §12, except the listed ones', () => {
    const missing: string[] = [];
    for (const h of headers.filter(isRequired)) {
      const n = parseAnnotations(text(h.file), h.file, checkedProfiles(h)).length;
      const listed = UNANNOTATED[h.file];
      if (n === 0 && listed === undefined) missing.push(h.file);
      if (n > 0 && listed !== undefined) missing.push(`${h.file} is annotated now: drop it from UNANNOTATED`);
    }
    for (const f of Object.keys(UNANNOTATED)) assert.ok(headers.some((h) => h.file === f), `UNANNOTATED names ${f}, which does not exist`);
    assert.deepEqual(missing, []);
  });

  describe('known disagreements between the spec text and the model (possible model bugs)', () => {
    for (const d of KNOWN_DISAGREEMENTS) {
      for (const profile of d.profiles) {
        it(`${d.section} ${d.file}:${d.line} [${profile}]: spec ${d.spec}, model ${d.model}`, () => {
          const src = text(d.file);
          const h = headers.find((x) => x.file === d.file);
          assert.ok(h !== undefined, `no scenario ${d.file}`);
          const fail = (msg: string): never => { throw new AnnotationError(d.file, d.line, msg); };
          const [specExpect] = parseSpecComment(`# spec: ${d.spec}`, checkedProfiles(h), fail).map((g) => g.expect);
          const [modelExpect] = parseSpecComment(`# spec: ${d.model}`, checkedProfiles(h), fail).map((g) => g.expect);
          assert.ok(specExpect !== undefined && modelExpect !== undefined);
          assert.ok(parseAnnotations(src, d.file, checkedProfiles(h)).every((a) => a.line !== d.line || expectFor(a, profile) === undefined),
            `${d.file}:${d.line} is both annotated and a known disagreement for ${profile}`);
          const p = predict(parseScript(src), profileById(profile), scenarioEnvironment(src, d.file)).find((x) => x.i === d.line);
          assert.ok(p !== undefined, `no prediction for ${d.file}:${d.line}`);
          assert.ok(!predictionMatches(specExpect, p), `the model now agrees with the spec (${show(p)}): move ${d.file}:${d.line} back to an annotation`);
          assert.ok(predictionMatches(modelExpect, p), `the model changed: it now predicts ${show(p)}, not ${d.model}`);
        });
      }
    }
  });
});

describe('spec annotation parser', () => {
  const known = DEFAULT_PROFILES;
  const parse = (t: string): Annotation[] => parseAnnotations(t, 'x.ops', known);

  it('reads every expectation form, with and without profile groups', () => {
    const a = parse([
      '# title: T',
      'open r0                        # spec: ret 0',
      'status_null r0   # spec[c-pre2019]: EINVAL; spec[c-final ack-c ack-rust]: EFAULT',
      'check m0 0 8192  # spec: rle [[0,4096], [165,4096]]',
      'read r0 4        # spec: ret 4 rle [[105,4]]',
      'get_name r0      # spec: name "a\\tb\\"c#"*2 copied 9',
      'fill m0 0 1 2    # a remark  # spec: SIGSEGV',
      'get_size r0      # spec: ret -2147483648',
      'set_name r0 "x # spec: not a comment"',
    ].join('\n'));
    assert.deepEqual(a, [
      { line: 2, groups: [{ expect: { kind: 'ret', ret: 0 } }] },
      { line: 3, groups: [{ profiles: ['c-pre2019'], expect: { kind: 'errno', errno: 'EINVAL' } }, { profiles: ['c-final', 'ack-c', 'ack-rust'], expect: { kind: 'errno', errno: 'EFAULT' } }] },
      { line: 4, groups: [{ expect: { kind: 'rle', rle: [[0, 4096], [165, 4096]] } }] },
      { line: 5, groups: [{ expect: { kind: 'ret', ret: 4, rle: [[105, 4]] } }] },
      { line: 6, groups: [{ expect: { kind: 'name', name: 'a\tb"c#a\tb"c#', copied: 9 } }] },
      { line: 7, groups: [{ expect: { kind: 'signal', signal: 'SIGSEGV' } }] },
      { line: 8, groups: [{ expect: { kind: 'ret', ret: -2147483648 } }] },
    ]);
  });

  it('rejects anything else with file:line', () => {
    const bad = [
      'open r0  # spec: ret',
      'open r0  # spec: okay',
      'open r0  # spec: ret 0 extra',
      'open r0  # spec[c-final]: EINVAL, spec[ack-c]: EFAULT',
      'open r0  # spec[c-final]: EINVAL; spec[c-final]: EFAULT',
      'open r0  # spec[c-orig]: EINVAL',
      'open r0  # spec: EINVAL; spec[c-final]: EFAULT',
      'open r0  # spec[c-final]: EINVAL; spec: EFAULT',
      'open r0  # spec[]: EINVAL',
      'check m0 0 1  # spec: rle [[256,1]]',
      'check m0 0 1  # spec: rle [[1,0]]',
      'check m0 0 1  # spec: rle [1,1]',
      'get_name r0  # spec: name "abc"',
      'get_name r0  # spec: name "abc copied 4',
      'open r0  # note spec: EINVAL',
      '# spec: ret 0',
    ];
    for (const t of bad) assert.throws(() => parse(`# title: T\n${t}`), (e: unknown) => e instanceof AnnotationError && /^x\.ops:2: /.test(e.message), t);
  });

  it('reads the # env: header', () => {
    assert.equal(scenarioEnvironment('# title: T\nopen r0', 'x.ops'), DEFAULT_ENVIRONMENT);
    const e = scenarioEnvironment('# title: T\n# env: no-root kernel 6.1 bits 32 api 26\nopen r0', 'x.ops');
    assert.deepEqual(e, { ...DEFAULT_ENVIRONMENT, root: false, kernelSeeksWithoutFmode: true, kernelVersion: [6, 1], callerBits: 32, apiLevel: 26 });
    assert.deepEqual(scenarioEnvironment('# title: T\n# env: memory 512\nopen r0', 'x.ops'), { ...DEFAULT_ENVIRONMENT, memoryBytes: 512 * 1024 * 1024 });
    assert.throws(() => scenarioEnvironment('# title: T\n# env: sudo\nopen r0', 'x.ops'), /x\.ops:2: /);
    assert.throws(() => scenarioEnvironment('# title: T\n# env: bits 16\nopen r0', 'x.ops'), /x\.ops:2: /);
  });

  it('knows every default profile', () => {
    for (const p of DEFAULT_PROFILES) assert.ok(PROFILES.some((x) => x.id === p), p);
  });
});
