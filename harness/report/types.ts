/**
 * The data the report writers render. The run orchestration (`check/`) produces it; `report/`
 * only renders it, so these types carry everything a report shows and nothing it must compute
 * from the model (design.md: `report ← check`, never the other way).
 */
import type { OpResult } from '../ops/result.js';

/** The first divergence of a case, as the judge states it. */
export interface DivergenceInfo {
  /** Line number of the op in the script (1-based, comments included). */
  line: number;
  /** The op's text as printed. */
  op: string;
  /** What the target returned. */
  observed: OpResult;
  /** What the admissible model states allowed (one result per distinct world outcome). */
  expected: readonly OpResult[];
  /** The rule that broke, in the spec's words. */
  rule: string;
  /** The spec section that states the rule, e.g. `§4.3`. */
  section: string;
  /** The model's ranges per area and the global LRU (oldest first) before the op. */
  state: { areas: readonly { area: number; ranges: readonly string[] }[]; lru: readonly string[]; lruCount: number };
}

/** Per op, per area page: 'p' pinned, 'u' unpinned (on the LRU), 'x' purged (unpinned, purged), '-' no backing file yet. */
export interface Timeline {
  /** The op text of each column. */
  ops: readonly string[];
  /** The areas drawn, each with the handle that names it and its page count. */
  areas: readonly { area: number; handle: string; pages: number }[];
  /** `states[opIndex][areaIndex]`: one char per page, after that op. */
  states: readonly (readonly string[])[];
  /** Index into `ops` of the op that diverged. */
  divergenceAt?: number;
  /** Which script the timeline replays: the case as run, or its shrunk form. */
  shows?: 'original' | 'shrunk';
}

/** How a case ended. */
export type CaseStatus = 'passed' | 'diverged' | 'skipped' | 'error';

/** One case (generated) or scenario (conform) on one target. */
export interface CaseRecord {
  /** The target id, e.g. `local` or `adb:emulator-5554`. */
  target: string;
  /** `case-17` or the scenario name. */
  id: string;
  /** Spec section, for conform scenarios. */
  section?: string;
  title?: string;
  status: CaseStatus;
  /** Skip or error reason. */
  reason?: string;
  /** The profile the case was judged against. */
  profile: string;
  /** The op script as run. */
  script: string;
  /** The target's results, one per op. */
  results: readonly OpResult[];
  divergence?: DivergenceInfo;
  /** The shrunk script for a divergence, re-executed on the target. */
  shrunk?: { script: string; results: readonly OpResult[]; divergence?: DivergenceInfo; tries: number };
  timeline?: Timeline;
  /** Where the standalone repro was written and the commands that replay it. */
  repro?: { dir: string; commands: readonly string[] };
  durationMs: number;
  logs?: { logcat?: string; dmesg?: string };
  /** True for a case that never ran (or was cut) because the run stopped early; `reason` says why. */
  notRun?: boolean;
}

/** The target id of run cases that no target took before the run stopped. */
export const NO_TARGET = '(none)';

/** A target lost mid-run: which, when, why, and what became of its work. */
export interface LostTarget {
  id: string;
  /** ISO 8601 time of the loss. */
  at: string;
  /** The error class, e.g. `AdbDeviceVanishedError`. */
  error: string;
  /** The error's message. */
  reason: string;
  /** Cases (or scenarios) this target finished before the loss. */
  casesDone: number;
  /** Case ids it had in flight (`run`), or the scenarios it still owed (`conform`). */
  unfinished: readonly string[];
  /**
   * What became of them: handed to the other targets (`run`), or recorded as not run (`conform`,
   * where each target runs every scenario).
   */
  unfinishedWent: 'to other targets' | 'not run';
  /** Its last logs (logcat, kernel log or a guest's console), when it could still give them. */
  logs?: { logcat?: string; dmesg?: string };
}

/** Why a run ended before every case ran. */
export interface StoppedEarly {
  /** `interrupted` (SIGINT / SIGTERM) or `targets-lost` (no target left to run them). */
  cause: 'interrupted' | 'targets-lost';
  /** In words: `interrupted by SIGINT`, `every target was lost`. */
  reason: string;
  /** Cases (or scenario runs) not run, out of `total`. */
  notRun: number;
  total: number;
}

/** A target as the run met it, and the profile chosen for it. */
export interface TargetInfo {
  id: string;
  profile: string;
  /** Why this profile (auto detection's explanation, or "given"). */
  profileReason: string;
  /** Device facts (kernel, ABI, backend...), rendered as JSON. */
  facts: unknown;
}

/** A whole run (`run`) or conformance suite (`conform`) over one or more targets. */
export interface Report {
  kind: 'run' | 'conform';
  /** ISO 8601 times. */
  started: string;
  finished: string;
  /** The settings of the run (cases, seed, ...), rendered as given. */
  settings: Record<string, unknown>;
  targets: readonly TargetInfo[];
  cases: readonly CaseRecord[];
  /** Targets lost mid-run (absent when none was). */
  lost?: readonly LostTarget[];
  /** Set when cases were left unrun (absent when every case ran). */
  stopped?: StoppedEarly;
}

