/**
 * Structure of the conformance suite (`conformance/`): every scenario parses, carries a valid
 * header and no expectations, the spec sections of issue 6 are all covered, and the README's
 * index is the one `scripts/conformance-index.ts` generates.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScript } from '../../harness/ops/parse.js';
import { PROFILES } from '../../harness/model/profile.js';
import {
  CONFORMANCE_DIR,
  compareScenarios,
  parseScenarioHeader,
  parseSection,
  readScenarios,
  renderIndex,
  withIndex,
  type ScenarioHeader,
} from '../../scripts/conformance-index.js';

const SCENARIOS = join(CONFORMANCE_DIR, 'scenarios');
const files = readdirSync(SCENARIOS).filter((f) => f.endsWith('.ops')).sort();
const text = (f: string): string => readFileSync(join(SCENARIOS, f), 'utf8');

/** The sections issue 6 requires at least one scenario for. */
const REQUIRED_SECTIONS: readonly string[] = [
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => `§3.${n}`),
  ...[2, 3, 4, 5, 6, 7].map((n) => `§4.${n}`),
  ...[1, 2, 3].map((n) => `§5.${n}`),
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => `§10.${n}`),
  '§12',
];

describe('conformance scenarios', () => {
  it('exist in a useful number', () => {
    assert.ok(files.length >= 60, `only ${files.length} scenarios`);
  });

  describe('each scenario', () => {
    for (const f of files) {
      describe(f, () => {
        it('parses as an op script', () => {
          assert.doesNotThrow(() => parseScript(text(f)));
        });

        it('has a title, a section of §1–§12 and a shows line', () => {
          const h = parseScenarioHeader(text(f), f);
          assert.ok(h.title.length > 0 && h.shows.length > 0);
          const s = parseSection(h.section);
          assert.ok(s !== undefined, `section ${h.section}`);
          assert.ok(s[0] >= 1 && s[0] <= 12, `section ${h.section} is outside §1–§12`);
          if (s[0] === 10) assert.ok(s[1] >= 1 && s[1] <= 10, `§10 has items 1–10, not ${h.section}`);
        });

        it('is named after its section, in kebab-case', () => {
          const h = parseScenarioHeader(text(f), f);
          assert.match(f, /^\d+(\.\d+)?-[a-z0-9]+(-[a-z0-9]+)*\.ops$/);
          assert.equal(f.slice(0, f.indexOf('-')), h.section.slice(1), `${f} cites ${h.section}`);
        });

        it('holds no expectations', () => {
          const lines = text(f).split('\n');
          lines.forEach((l, i) => assert.ok(!/#\s*=>/.test(l), `${f}:${i + 1} has an expectation "# =>"`));
        });

        it('names only known profiles', () => {
          const known = new Set(PROFILES.map((p) => p.id));
          for (const p of parseScenarioHeader(text(f), f).profiles) assert.ok(known.has(p), `unknown profile ${p}`);
        });

        it('says why a nondeterministic purge is decidable, and only then', () => {
          const h = parseScenarioHeader(text(f), f);
          const kinds = new Set(parseScript(text(f)).ops.map((o) => o.kind));
          const nondeterministic = kinds.has('drop_caches') || kinds.has('pressure');
          assert.equal(h.decidable !== undefined, nondeterministic,
            nondeterministic ? 'drop_caches/pressure without a "decidable:" line' : '"decidable:" on a deterministic scenario');
        });

        it('declares the second process and root it uses', () => {
          const h = parseScenarioHeader(text(f), f);
          const kinds = new Set(parseScript(text(f)).ops.map((o) => o.kind));
          if (kinds.has('fork')) assert.ok(h.needs.includes('second-process'), 'fork without "needs: second-process"');
          if (kinds.has('drop_caches') && !kinds.has('purge_all')) assert.ok(h.needs.includes('root'), 'drop_caches without "needs: root"');
        });
      });
    }
  });

  it('cover every required section', () => {
    const covered = new Set(readScenarios(SCENARIOS).map((h) => h.section));
    const missing = REQUIRED_SECTIONS.filter((s) => !covered.has(s));
    assert.deepEqual(missing, [], `sections without a scenario: ${missing.join(' ')}`);
  });

  it('have distinct titles', () => {
    const seen = new Map<string, string>();
    for (const h of readScenarios(SCENARIOS)) {
      const other = seen.get(h.title);
      assert.equal(other, undefined, `${h.file} and ${other ?? ''} share a title`);
      seen.set(h.title, h.file);
    }
  });
});

describe('conformance scenarios in the native probe', () => {
  const probe = join(CONFORMANCE_DIR, '..', 'apk-fixtures', 'probe', 'build', 'host', 'ashmem-probe');

  it('parse in the probe\'s C parser too (skipped when the host probe is not built)', function () {
    if (!existsSync(probe)) this.skip();
    for (const f of files) {
      const out = execFileSync(probe, ['--parse-only'], { input: text(f), encoding: 'utf8', timeout: 30_000 });
      const errors = out.split('\n').filter((l) => l.includes('"error"'));
      assert.deepEqual(errors, [], `${f}: the probe rejects ${errors.join(' ')}`);
    }
  });
});

describe('conformance README index', () => {
  it('is up to date (npx tsx scripts/conformance-index.ts regenerates it)', () => {
    const readme = readFileSync(join(CONFORMANCE_DIR, 'README.md'), 'utf8');
    assert.equal(withIndex(readme, renderIndex(readScenarios(SCENARIOS))), readme);
  });

  it('lists every scenario once, in section order', () => {
    const headers: ScenarioHeader[] = readScenarios(SCENARIOS);
    assert.equal(headers.length, files.length);
    const order = headers.map((h) => parseSection(h.section) ?? [0, 0]);
    for (let i = 1; i < order.length; i++) {
      const [a, b] = [order[i - 1] ?? [0, 0], order[i] ?? [0, 0]];
      assert.ok(a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]), `${headers[i]?.file ?? ''} is out of order`);
    }
  });
});

describe('scenario header parser', () => {
  it('reads every field and stops at the first op', () => {
    const h = parseScenarioHeader([
      '# title: T',
      '# section: §10.10',
      '# shows: S',
      '# needs: root second-process',
      '# profiles: c-final ack-c',
      '# decidable: D',
      'open r0',
      '# title: not a header line any more',
    ].join('\n'), 'x.ops');
    assert.deepEqual(h, {
      file: 'x.ops', title: 'T', section: '§10.10', shows: 'S', needs: ['root', 'second-process'],
      profiles: ['c-final', 'ack-c'], decidable: 'D', headerLines: 6,
    });
  });

  it('rejects missing, unknown, repeated and malformed lines', () => {
    const bad = [
      '# title: T\n# shows: S\nopen r0',
      '# title: T\n# section: §3.6\n# shows: S\n# colour: red\nopen r0',
      '# title: T\n# title: U\n# section: §3.6\n# shows: S\nopen r0',
      '# title: T\n# section: 3.6\n# shows: S\nopen r0',
      '# title: T\n# section: §3.6\n# shows: S\n# needs: gpu\nopen r0',
      '# title: T\n# section: §3.6\n# just a remark\n# shows: S\nopen r0',
    ];
    for (const t of bad) assert.throws(() => parseScenarioHeader(t, 'x.ops'), /x\.ops:\d+: /);
  });

  it('orders §3.9 before §3.10 and §6 before §10', () => {
    const mk = (file: string, section: string): ScenarioHeader => ({ file, title: file, section, shows: 's', needs: [], profiles: [], headerLines: 3 });
    const table = renderIndex([mk('d', '§10.1'), mk('c', '§6'), mk('b', '§3.10'), mk('a', '§3.9')].sort(compareScenarios));
    assert.match(table, /\| \[a\][^\n]*\n\| \[b\][^\n]*\n\| \[c\][^\n]*\n\| \[d\]/);
  });
});
