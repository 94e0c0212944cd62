/**
 * Hand-built reports shaped like what `run` and `conform` produce: a generated run on the local
 * target with a diverged case (timeline, shrunk script, repro), a passed, a skipped and an error
 * case; a conform run on two targets × three scenarios; and hostile text for escaping tests.
 */
import type { OpResult } from '../../harness/ops/result.js';
import type { CaseRecord, DivergenceInfo, Report, Timeline } from '../../harness/report/types.js';

/** Every char code 0–255, as a GET_NAME byte string may hold them. */
export const ALL_BYTES = String.fromCharCode(...Array.from({ length: 256 }, (_, k) => k));

/** Markup, quotes, CDATA ends and every byte: what a hostile scenario or name may contain. */
export const HOSTILE = `<script>alert("x&y")</script>'"]]>]]><!-- --><img src=x onerror=alert(1)>${ALL_BYTES}`;

const SCRIPT = [
  '# case-17 (seed 42)',
  'open r0',
  'set_size r0 16384',
  'mmap m0 r0 16384 3 shared 0',
  'fill m0 0 16384 0xA5',
  'open r1',
  'set_size r1 8192',
  'unpin r0 0 8192',
  'unpin r1 0 4096',
  'unpin r0 8192 4096',
  'purge_all r0',
  'pin r0 8192 4096',
].join('\n') + '\n';

const RESULTS: OpResult[] = [
  { i: 2, op: 'open', ret: 0 },
  { i: 3, op: 'set_size', ret: 0 },
  { i: 4, op: 'mmap', ret: 0 },
  { i: 5, op: 'fill', ret: 0 },
  { i: 6, op: 'open', ret: 0 },
  { i: 7, op: 'set_size', ret: 0 },
  { i: 8, op: 'unpin', ret: 0 },
  { i: 9, op: 'unpin', ret: 0 },
  { i: 10, op: 'unpin', ret: 0 },
  { i: 11, op: 'purge_all', ret: 3 },
  { i: 12, op: 'pin', ret: 0 },
];

/** The timeline of the diverged case: r0 has 4 pages, r1 2; 11 ops; diverged at the last. */
export const TIMELINE: Timeline = {
  ops: SCRIPT.split('\n').slice(1, 12),
  areas: [{ area: 1, handle: 'r0', pages: 4 }, { area: 2, handle: 'r1', pages: 2 }],
  states: [
    ['----', '--'], // open r0
    ['----', '--'], // set_size
    ['pppp', '--'], // mmap: the backing file exists
    ['pppp', '--'], // fill
    ['pppp', '--'], // open r1
    ['pppp', '--'], // set_size r1
    ['uupp', '--'], // unpin r0 pages 0-1
    ['uupp', '--'], // unpin r1: still no file
    ['uuup', '--'], // unpin r0 page 2 (a separate range: it was unpinned later)
    ['xxxp', '--'], // purge_all
    ['xxpp', '--'], // pin r0 page 2: the model says WAS_PURGED, the kernel said not
  ],
  divergenceAt: 10,
};

/** The divergence of the diverged case. */
export const DIVERGENCE: DivergenceInfo = {
  line: 12,
  op: 'pin r0 8192 4096',
  observed: { i: 12, op: 'pin', ret: 0 },
  expected: [{ i: 12, op: 'pin', ret: 1 }],
  rule: 'PIN did not report WAS_PURGED for a purged range: the whole-range purged flag was lost',
  section: '§4.3, §10.3',
  state: { areas: [{ area: 1, ranges: ['0-1 purged', '2 purged'] }, { area: 2, ranges: [] }], lru: [], lruCount: 0 },
};

/** A diverged generated case with everything a report shows. */
export const DIVERGED: CaseRecord = {
  target: 'local', id: 'case-17', status: 'diverged', profile: 'c-final', script: SCRIPT, results: RESULTS,
  divergence: DIVERGENCE,
  shrunk: {
    script: 'open r0\nset_size r0 8192\nmmap m0 r0 8192 3 shared 0\nunpin r0 4096 4096\npurge_all r0\npin r0 4096 4096\n',
    results: [{ i: 1, op: 'open', ret: 0 }, { i: 2, op: 'set_size', ret: 0 }, { i: 3, op: 'mmap', ret: 0 }, { i: 4, op: 'unpin', ret: 0 }, { i: 5, op: 'purge_all', ret: 1 }, { i: 6, op: 'pin', ret: 0 }],
    divergence: { ...DIVERGENCE, line: 6, op: 'pin r0 4096 4096', observed: { i: 6, op: 'pin', ret: 0 }, expected: [{ i: 6, op: 'pin', ret: 1 }], state: { areas: [{ area: 1, ranges: ['1 purged'] }], lru: [], lruCount: 0 } },
    tries: 37,
  },
  timeline: TIMELINE,
  repro: { dir: 'out/repro/case-17', commands: ['ashmem-harness exec --target local out/repro/case-17/script.ops > results.jsonl', 'ashmem-harness judge --profile c-final out/repro/case-17/script.ops results.jsonl'] },
  durationMs: 48,
};

/** A generated run: diverged, passed, skipped, error. */
export function runReport(): Report {
  return {
    kind: 'run', started: '2026-11-25T22:00:00.000Z', finished: '2026-11-25T22:00:03.000Z',
    settings: { cases: 4, seed: 42, length: 30, profile: 'auto' },
    targets: [{ id: 'local', profile: 'c-final', profileReason: 'memfd backend; unknown ioctl gives ENOTTY', facts: { kernel: '6.1.0', abi: 'x86_64', backend: 'memfd', pageSize: 4096 } }],
    cases: [
      DIVERGED,
      { target: 'local', id: 'case-18', status: 'passed', profile: 'c-final', script: 'open r0\n', results: [{ i: 1, op: 'open', ret: 0 }], durationMs: 5 },
      { target: 'local', id: 'case-19', status: 'skipped', reason: 'needs root: drop_caches', profile: 'c-final', script: 'drop_caches 2\n', results: [{ i: 1, op: 'drop_caches', error: 'skipped', message: 'needs root' }], durationMs: 2 },
      { target: 'local', id: 'case-20', status: 'error', reason: 'probe exited with signal SIGKILL after 3 results', profile: 'c-final', script: 'open r0\npressure 64 1\n', results: [], durationMs: 1500, logs: { dmesg: 'Out of memory: Killed process 123 (probe)' } },
    ],
  };
}

/** Scenario results per target: [scenario, section, status on t1, status on t2]. */
export const MATRIX: readonly [string, string, CaseRecord['status'], CaseRecord['status']][] = [
  ['10.1-unpin-then-purge-all', '§4.3', 'passed', 'diverged'],
  ['1.4-unknown-ioctl-errno', '§1.4', 'passed', 'passed'],
  ['2-drop-caches-prefix', '§4.5', 'skipped', 'passed'],
];

/** The rows of {@link MATRIX} in natural order of their ids (1.4 < 2 < 10.1), as reports show them. */
export const MATRIX_NATURAL = [MATRIX[1], MATRIX[2], MATRIX[0]] as (typeof MATRIX)[number][];

/** A conform run on two targets × three scenarios. */
export function conformReport(): Report {
  const targets = ['adb:emulator-5554', 'adb:R58M123'];
  const cases: CaseRecord[] = [];
  targets.forEach((target, t) => {
    for (const row of MATRIX) {
      const [id, section] = row;
      const status = row[2 + t] as CaseRecord['status'];
      cases.push({
        target, id, section, title: `behaviour of ${section}`, status, profile: t === 0 ? 'c-final' : 'rust',
        ...(status === 'skipped' ? { reason: 'needs root (adb root refused on a user build)' } : {}),
        ...(status === 'diverged' ? { divergence: DIVERGENCE, timeline: TIMELINE } : {}),
        script: `# ${id} (spec ${section})\nopen r0\n`, results: [{ i: 2, op: 'open', ret: 0 }], durationMs: 30,
      });
    }
  });
  return {
    kind: 'conform', started: '2026-11-25T23:00:00.000Z', finished: '2026-11-25T23:00:05.000Z', settings: { only: null },
    targets: targets.map((id, t) => ({ id, profile: t === 0 ? 'c-final' : 'rust', profileReason: t === 0 ? 'kernel 5.10, ENOTTY' : 'kernel 6.12, ashmem_rust', facts: { serial: id } })),
    cases,
  };
}

/** A run whose every string is hostile: ids, target, reasons, scripts, results, timeline text. */
export function hostileReport(): Report {
  const c: CaseRecord = {
    ...DIVERGED,
    target: `local${HOSTILE}`, id: `case-${HOSTILE}`, title: HOSTILE, reason: HOSTILE,
    script: `set_name r0 "${HOSTILE}"\n`,
    results: [{ i: 1, op: 'get_name', ret: 0, name: ALL_BYTES, copied: 256 }],
    divergence: { ...DIVERGENCE, op: `set_name r0 "${HOSTILE}"`, rule: HOSTILE, section: HOSTILE, observed: { i: 1, op: 'get_name', ret: 0, name: ALL_BYTES } },
    shrunk: { script: `set_name r0 "${HOSTILE}"\n# ]]> again ]]>\n`, results: [], tries: 1 },
    timeline: { ...TIMELINE, ops: TIMELINE.ops.map((o) => `${o} ${HOSTILE}`), areas: [{ area: 1, handle: HOSTILE, pages: 4 }, { area: 2, handle: 'r1', pages: 2 }] },
    repro: { dir: `out/${HOSTILE}`, commands: [`echo '${HOSTILE}'`] },
    logs: { logcat: HOSTILE, dmesg: HOSTILE },
  };
  return {
    kind: 'conform', started: HOSTILE, finished: HOSTILE, settings: { [HOSTILE]: HOSTILE },
    targets: [{ id: c.target, profile: HOSTILE, profileReason: HOSTILE, facts: { [HOSTILE]: HOSTILE } }, { id: 'other', profile: 'p', profileReason: 'r', facts: null }],
    cases: [c, { ...c, target: 'other', status: 'skipped', reason: HOSTILE }, { ...c, id: 'plain', section: HOSTILE, status: 'error' }],
  };
}
