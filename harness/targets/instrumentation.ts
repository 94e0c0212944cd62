/**
 * The fixture APK's instrumentation door: the `am instrument` command line that runs a Java-layer
 * op script, and a parser of its raw output (`am instrument -w -r`) into result lines.
 *
 * What the APK prints (apk-fixtures/memoryfile-app/README.md): one status bundle (code 1) per
 * JSON line, the `{"hello":...}` metadata line first, then one op result per op —
 *
 * ```
 * INSTRUMENTATION_STATUS: id=ashmem-harness
 * INSTRUMENTATION_STATUS: result={"i":3,"op":"mf_read","ret":4,"rle":[[0,4]]}
 * INSTRUMENTATION_STATUS: stream={"i":3,"op":"mf_read","ret":4,"rle":[[0,4]]}
 *
 * INSTRUMENTATION_STATUS_CODE: 1
 * ```
 *
 * — and a final bundle `done=N` with code -1, or `error=WHY` with code 0 when the script could
 * not be run at all. A crash of the app ends the output with `shortMsg=Process crashed.`.
 */
import { Ajv } from 'ajv';
import type { OpResult } from '../ops/result.js';
import { TargetError } from './target.js';

/** The fixture's package and its instrumentation component. */
export const FIXTURE_PACKAGE = 'dev.ashmemharness.fixture';
/** `am instrument` component of the script runner. */
export const FIXTURE_INSTRUMENTATION = `${FIXTURE_PACKAGE}/.ScriptInstrumentation`;
/** The `id` every status bundle of the fixture carries. */
export const FIXTURE_STATUS_ID = 'ashmem-harness';

/** Status code of a result bundle, and the final codes. */
export const STATUS_RESULT = 1;
export const CODE_DONE = -1;
export const CODE_ERROR = 0;

/**
 * The shell command (for `adb shell`) that runs a script through the instrumentation door.
 * The script travels base64-encoded in one `-e script` argument, so it needs no quoting.
 * @param script - the op script text
 */
export function instrumentCommand(script: string): string {
  const b64 = Buffer.from(script, 'utf8').toString('base64');
  return `am instrument -w -r -e script ${b64} ${FIXTURE_INSTRUMENTATION}`;
}

/** What one instrumentation run produced. */
export interface InstrumentationRun {
  /** The fixture's hello: `{fixture, sdk, release, door}`. */
  readonly hello: Readonly<Record<string, unknown>> | undefined;
  /** Op results, in order. */
  readonly results: readonly OpResult[];
  /** Other metadata lines (JSON objects without `i`), in order. */
  readonly metadata: readonly Readonly<Record<string, unknown>>[];
  /** The op count the APK reported at the end (equals `results.length`). */
  readonly done: number;
}

/** The instrumentation did not produce a complete run. */
export class InstrumentationError extends TargetError {
  override readonly name: string = 'InstrumentationError';
  /**
   * @param message - what went wrong and what to do
   * @param results - the op results received before it went wrong
   */
  constructor(message: string, readonly results: readonly OpResult[] = []) {
    super(message);
  }
}

/** The app process crashed (`shortMsg=Process crashed.`): a native crash or an uncaught error. */
export class InstrumentationCrashedError extends InstrumentationError {
  override readonly name = 'InstrumentationCrashedError';
  constructor(message: string, results: readonly OpResult[], readonly longMsg: string | undefined) {
    super(message, results);
  }
}

/** `am` could not start the instrumentation (not installed, wrong component) or the system aborted it. */
export class InstrumentationFailedError extends InstrumentationError {
  override readonly name = 'InstrumentationFailedError';
}

/** The fixture ran but refused the script as a whole (no script, bad base64): its `error` key. */
export class InstrumentationScriptError extends InstrumentationError {
  override readonly name = 'InstrumentationScriptError';
}

/** The output ended before `INSTRUMENTATION_CODE` (adb connection lost, `am` killed, timeout). */
export class InstrumentationTruncatedError extends InstrumentationError {
  override readonly name = 'InstrumentationTruncatedError';
}

/** A line that claims to be a result but is not valid JSON of the result format. */
export class InstrumentationFormatError extends InstrumentationError {
  override readonly name = 'InstrumentationFormatError';
}

const OUTCOMES = ['ret', 'errno', 'signal', 'exception', 'error'] as const;

const RESULT_SCHEMA = {
  type: 'object',
  required: ['i', 'op'],
  properties: {
    i: { type: 'integer', minimum: 1 },
    op: { type: 'string' },
    proc: { type: 'string' },
    ret: { type: 'number' },
    errno: { type: 'string' },
    signal: { type: 'string' },
    exception: { type: 'string' },
    error: { type: 'string' },
    message: { type: 'string' },
    col: { type: 'integer' },
    rle: { type: 'array', items: { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 2, maxItems: 2 } },
  },
  oneOf: OUTCOMES.map((k) => ({ required: [k] })),
} as const;

const validateResult = new Ajv({ allErrors: true }).compile<OpResult>(RESULT_SCHEMA);

/** One bundle: its keys and values, and its code once `*_CODE` arrived. */
interface Bundle {
  readonly values: Map<string, string>;
  lastKey: string | undefined;
}

const STATUS = 'INSTRUMENTATION_STATUS: ';
const STATUS_CODE = 'INSTRUMENTATION_STATUS_CODE: ';
const RESULT = 'INSTRUMENTATION_RESULT: ';
const CODE = 'INSTRUMENTATION_CODE: ';
const ABORTED = 'INSTRUMENTATION_ABORTED: ';
const FAILED = 'INSTRUMENTATION_FAILED: ';

/**
 * An incremental parser of `am instrument -w -r` output: feed chunks as adb delivers them and get
 * each op result as soon as its status bundle is complete (the purge scenarios wait for a line's
 * result before they trigger a purge).
 */
export class InstrumentationStreamParser {
  private buffered = '';
  private status: Bundle = { values: new Map(), lastKey: undefined };
  private final: Bundle = { values: new Map(), lastKey: undefined };
  private current: Bundle | undefined;
  private finalCode: number | undefined;
  private aborted: string | undefined;
  private failedLine: string | undefined;
  private readonly results: OpResult[] = [];
  private readonly metadata: Record<string, unknown>[] = [];
  private hello: Record<string, unknown> | undefined;
  private readonly otherStatus: string[] = [];
  /** `Error=` values of status bundles that are not the fixture's (am's own complaints). */
  private readonly statusErrors: string[] = [];

  /**
   * Feeds more output.
   * @param chunk - text as received
   * @returns the op results completed by this chunk
   */
  push(chunk: string): OpResult[] {
    this.buffered += chunk;
    const out: OpResult[] = [];
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl).replace(/\r$/, '');
      this.buffered = this.buffered.slice(nl + 1);
      this.line(line, out);
    }
    return out;
  }

  /**
   * Ends the output and returns the run, or throws the typed error that says why there is none.
   */
  end(): InstrumentationRun {
    if (this.buffered !== '') {
      const rest = this.buffered;
      this.buffered = '';
      this.line(rest, []);
    }
    if (this.failedLine !== undefined || (this.otherStatus.length > 0 && this.results.length === 0 && this.hello === undefined)) {
      const why = this.statusErrors[0] ?? this.failedLine ?? this.otherStatus.join('; ');
      throw new InstrumentationFailedError(
        `am instrument could not run ${FIXTURE_INSTRUMENTATION}: ${why} (is the fixture APK installed? scripts/build-apk, then adb install -r)`,
        this.results,
      );
    }
    if (this.aborted !== undefined) {
      throw new InstrumentationFailedError(`the instrumentation was aborted: ${this.aborted}`, this.results);
    }
    if (this.finalCode === undefined) {
      throw new InstrumentationTruncatedError(
        `the output ended without INSTRUMENTATION_CODE after ${this.results.length} result(s): the adb connection or am was cut off`,
        this.results,
      );
    }
    const values = this.final.values;
    const shortMsg = values.get('shortMsg');
    if (shortMsg !== undefined) {
      const longMsg = values.get('longMsg');
      throw new InstrumentationCrashedError(
        `the fixture app crashed (${shortMsg.trim()}) after ${this.results.length} result(s)${longMsg === undefined ? '' : `: ${longMsg.split('\n')[0] ?? ''}`}; see logcat`,
        this.results,
        longMsg,
      );
    }
    const error = values.get('error');
    if (error !== undefined) throw new InstrumentationScriptError(`the fixture refused the script: ${error}`, this.results);
    const done = values.get('done');
    if (this.finalCode !== CODE_DONE || done === undefined || !/^\d+$/.test(done)) {
      throw new InstrumentationFailedError(
        `unexpected end of instrumentation: code ${this.finalCode}, result ${JSON.stringify(Object.fromEntries(values))}`,
        this.results,
      );
    }
    if (Number(done) !== this.results.length) {
      throw new InstrumentationTruncatedError(`the fixture reported ${done} result(s) but ${this.results.length} arrived`, this.results);
    }
    return { hello: this.hello, results: this.results, metadata: this.metadata, done: Number(done) };
  }

  private line(line: string, out: OpResult[]): void {
    if (line.startsWith(STATUS_CODE)) {
      this.closeStatus(Number(line.slice(STATUS_CODE.length).trim()), out);
      this.current = undefined;
    } else if (line.startsWith(STATUS)) {
      this.current = this.status;
      this.keyValue(this.status, line.slice(STATUS.length));
    } else if (line.startsWith(RESULT)) {
      this.current = this.final;
      this.keyValue(this.final, line.slice(RESULT.length));
    } else if (line.startsWith(CODE)) {
      this.finalCode = Number(line.slice(CODE.length).trim());
      this.current = undefined;
    } else if (line.startsWith(ABORTED)) {
      this.aborted = line.slice(ABORTED.length).trim();
      this.current = undefined;
    } else if (line.includes(FAILED)) {
      this.failedLine = line.trim();
      this.current = undefined;
    } else if (this.current !== undefined && this.current.lastKey !== undefined) {
      // A value with newlines (a stream ending in "\n", a stack trace) continues on the next lines.
      const key = this.current.lastKey;
      this.current.values.set(key, `${this.current.values.get(key) ?? ''}\n${line}`);
    }
    // Anything else (a stack trace after INSTRUMENTATION_FAILED, adb noise) is not ours.
  }

  private keyValue(bundle: Bundle, text: string): void {
    const eq = text.indexOf('=');
    const key = eq < 0 ? text : text.slice(0, eq);
    bundle.values.set(key, eq < 0 ? '' : text.slice(eq + 1));
    bundle.lastKey = key;
  }

  private closeStatus(code: number, out: OpResult[]): void {
    const values = this.status.values;
    this.status = { values: new Map(), lastKey: undefined };
    const result = values.get('result');
    if (values.get('id') !== FIXTURE_STATUS_ID || code !== STATUS_RESULT || result === undefined) {
      this.otherStatus.push([...values].map(([k, v]) => `${k}=${v}`).join(', ') || `code ${code}`);
      const error = values.get('Error');
      if (error !== undefined) this.statusErrors.push(error);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(result);
    } catch {
      throw new InstrumentationFormatError(`a result line is not JSON: ${result}`, this.results);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new InstrumentationFormatError(`a result line is not a JSON object: ${result}`, this.results);
    }
    if (!('i' in parsed)) {
      const meta = parsed as Record<string, unknown>;
      const hello = meta['hello'];
      if (this.hello === undefined && typeof hello === 'object' && hello !== null) this.hello = hello as Record<string, unknown>;
      else this.metadata.push(meta);
      return;
    }
    if (!validateResult(parsed)) {
      const why = (validateResult.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ');
      throw new InstrumentationFormatError(`a result line does not match docs/op-scripts.md (${why}): ${result}`, this.results);
    }
    this.results.push(parsed);
    out.push(parsed);
  }
}

/**
 * Parses the whole raw output of one `am instrument -w -r` run of the fixture.
 * @param text - everything `adb shell` printed
 * @throws InstrumentationError (one of its subclasses) when the run did not complete
 */
export function parseInstrumentationOutput(text: string): InstrumentationRun {
  const parser = new InstrumentationStreamParser();
  parser.push(text);
  return parser.end();
}

/** How a run ends, for {@link formatInstrumentationOutput}. */
export type RunEnding =
  | { readonly kind: 'done' }
  | { readonly kind: 'error'; readonly error: string }
  | { readonly kind: 'crash'; readonly longMsg: string }
  | { readonly kind: 'cut' };

function statusBundle(values: readonly (readonly [string, string])[], code: number): string {
  return `${values.map(([k, v]) => `${STATUS}${k}=${v}`).join('\n')}\n${STATUS_CODE}${code}\n`;
}

/**
 * Writes what `am instrument -w -r` prints for a run of the fixture that emitted these lines —
 * the exact bundles of ScriptInstrumentation.smali, keys sorted as `am` sorts them. Used to test
 * the parser on output made from results (the model's, or any), and by fakes of the device.
 * @param lines - the JSON lines the APK emits (hello first, then op results)
 * @param ending - how the run ends
 */
export function formatInstrumentationOutput(lines: readonly object[], ending: RunEnding = { kind: 'done' }): string {
  let out = '';
  for (const line of lines) {
    const json = JSON.stringify(line);
    out += statusBundle([['id', FIXTURE_STATUS_ID], ['result', json], ['stream', `${json}\n`]], STATUS_RESULT);
  }
  const ops = lines.filter((l) => 'i' in l).length;
  switch (ending.kind) {
    case 'done':
      out += `${RESULT}done=${ops}\n${RESULT}id=${FIXTURE_STATUS_ID}\n${RESULT}stream={"done":${ops}}\n\n${CODE}${CODE_DONE}\n`;
      break;
    case 'error':
      out += `${RESULT}error=${ending.error}\n${RESULT}id=${FIXTURE_STATUS_ID}\n${RESULT}stream={"fatal":${JSON.stringify(ending.error)}}\n\n${CODE}${CODE_ERROR}\n`;
      break;
    case 'crash':
      out += `${RESULT}longMsg=${ending.longMsg}\n${RESULT}shortMsg=Process crashed.\n${CODE}${CODE_ERROR}\n`;
      break;
    case 'cut':
      break;
  }
  return out;
}
