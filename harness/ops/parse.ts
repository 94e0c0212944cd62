/**
 * Parser for op scripts (`docs/op-scripts.md`). Every error names its line and column.
 */
import { CAPABILITIES, MAIN_PROC, MAP_KINDS, type Op, type Script } from './ast.js';
import { ScriptError, ScriptErrors } from './errors.js';
import { isOpKind, LIMITS, SIGNATURES, type ArgSpec } from './signatures.js';

interface Token {
  readonly text: string;
  readonly col: number;
  /** For string tokens: the decoded bytes (one char per byte). */
  readonly str?: string;
}

const PROC_RE = /^p(0|[1-9][0-9]{0,3})$/;
const REGION_RE = /^r(0|[1-9][0-9]{0,5})$/;
const MAPPING_RE = /^m(0|[1-9][0-9]{0,5})$/;
const JAVA_HANDLE_RE = { memoryfile: /^f(0|[1-9][0-9]{0,5})$/, sharedmemory: /^s(0|[1-9][0-9]{0,5})$/, buffer: /^b(0|[1-9][0-9]{0,5})$/ } as const;
const NUMBER_RE = /^-?(0x[0-9a-fA-F]+|0|[1-9][0-9]*)$/;

/** Space, tab, CR, LF, VT, FF: the separators (and `#`, `"` end a word). */
function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

/** Splits one line into tokens; `#` outside a string starts a comment. */
function tokenize(text: string, line: number): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (isSpace(text.charCodeAt(i))) {
      i++;
    } else if (c === '#') {
      break;
    } else if (c === '"') {
      const start = i;
      const { value, end } = readString(text, i, line);
      i = end;
      let str = value;
      if (text[i] === '*') {
        const m = /^\*([1-9][0-9]{0,5})/.exec(text.slice(i));
        if (m === null || m[1] === undefined) throw new ScriptError(line, i + 1, 'expected a repeat count after "*", e.g. "a"*300');
        const n = Number(m[1]);
        if (value.length * n > LIMITS.stringBytes) {
          throw new ScriptError(line, i + 1, `string too long after repeat (${value.length * n} bytes; at most ${LIMITS.stringBytes})`);
        }
        str = value.repeat(n);
        i += m[0].length;
      }
      if (i < text.length && !isSpace(text.charCodeAt(i)) && text[i] !== '#') {
        throw new ScriptError(line, i + 1, 'expected a space after the string');
      }
      tokens.push({ text: text.slice(start, i), col: start + 1, str });
    } else {
      const start = i;
      for (let code = text.charCodeAt(i); i < text.length && !isSpace(code) && code !== 35 && code !== 34; code = text.charCodeAt(++i));
      tokens.push({ text: text.slice(start, i), col: start + 1 });
    }
  }
  return tokens;
}

/** Reads a double-quoted string with `\\ \" \n \t \0 \xHH` escapes. Non-ASCII text is taken as UTF-8 bytes. */
function readString(text: string, start: number, line: number): { value: string; end: number } {
  let out = '';
  let i = start + 1;
  for (;;) {
    if (i >= text.length) throw new ScriptError(line, start + 1, 'unterminated string: add the closing "');
    const c = text[i] as string;
    if (c === '"') return { value: out, end: i + 1 };
    if (c === '\\') {
      const e = text[i + 1];
      if (e === '\\' || e === '"') { out += e; i += 2; }
      else if (e === 'n') { out += '\n'; i += 2; }
      else if (e === 't') { out += '\t'; i += 2; }
      else if (e === '0') { out += '\0'; i += 2; }
      else if (e === 'x') {
        const hex = text.slice(i + 2, i + 4);
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new ScriptError(line, i + 1, 'expected two hex digits after \\x');
        out += String.fromCharCode(parseInt(hex, 16));
        i += 4;
      } else {
        throw new ScriptError(line, i + 1, `unknown escape \\${e ?? ''}: use \\\\ \\" \\n \\t \\0 or \\xHH`);
      }
    } else {
      const code = c.codePointAt(0) as number;
      if (code < 0x80) { out += c; i++; }
      else {
        // Non-ASCII source text becomes its UTF-8 bytes, so names match what a C caller passes.
        const ch = String.fromCodePoint(code);
        for (const b of new TextEncoder().encode(ch)) out += String.fromCharCode(b);
        i += ch.length;
      }
    }
  }
}

function parseInteger(tok: Token, line: number): bigint {
  if (!NUMBER_RE.test(tok.text)) throw new ScriptError(line, tok.col, `expected a number (decimal or 0x hex), got "${tok.text}"`);
  const neg = tok.text.startsWith('-');
  const v = BigInt(neg ? tok.text.slice(1) : tok.text);
  return neg ? -v : v;
}

function parseBounded(tok: Token, line: number, min: bigint, max: bigint, what: string): bigint {
  const v = parseInteger(tok, line);
  if (v < min || v > max) throw new ScriptError(line, tok.col, `${what} out of range: ${tok.text} (allowed ${min}..${max})`);
  return v;
}

function pick<T extends string>(tok: Token, line: number, allowed: readonly T[], what: string): T {
  if ((allowed as readonly string[]).includes(tok.text)) return tok.text as T;
  throw new ScriptError(line, tok.col, `expected ${what} (${allowed.join(' | ')}), got "${tok.text}"`);
}

function handle(tok: Token, line: number, re: RegExp, what: string): string {
  if (!re.test(tok.text)) throw new ScriptError(line, tok.col, `expected ${what}, got "${tok.text}"`);
  return tok.text;
}

/** Reads one argument of the given spec from a token. */
function readArg(spec: ArgSpec, tok: Token, line: number): unknown {
  switch (spec.type) {
    case 'region':
    case 'new-region':
      return handle(tok, line, REGION_RE, 'a region handle like r0');
    case 'mapping':
    case 'new-mapping':
      return handle(tok, line, MAPPING_RE, 'a mapping handle like m0');
    case 'proc':
    case 'new-proc':
      return handle(tok, line, PROC_RE, 'a process name like p1');
    case 'u32':
      return Number(parseBounded(tok, line, 0n, BigInt(LIMITS.u32), 'a 32-bit unsigned value'));
    case 'count':
      return Number(parseBounded(tok, line, 0n, BigInt(LIMITS.count), 'a count'));
    case 'offset':
      return Number(parseBounded(tok, line, -BigInt(LIMITS.count), BigInt(LIMITS.count), 'a file offset'));
    case 'word':
      return parseBounded(tok, line, LIMITS.wordMin, LIMITS.wordMax, 'a machine word');
    case 'prot':
    case 'byte':
      return Number(parseBounded(tok, line, 0n, 255n, spec.type === 'prot' ? 'a prot value' : 'a byte'));
    case 'string':
      if (tok.str === undefined) throw new ScriptError(line, tok.col, `expected a "quoted string", got ${tok.text}`);
      return tok.str;
    case 'map':
      return pick(tok, line, MAP_KINDS, 'a mapping kind');
    case 'whence':
      return pick(tok, line, ['set', 'cur', 'end', 'data', 'hole'], 'a whence');
    case 'open-mode':
      return pick(tok, line, ['rdwr', 'rdonly'], 'an open mode');
    case 'drop-mode':
      return Number(pick(tok, line, ['1', '2', '3'], 'a drop_caches value'));
    case 'personality':
      return pick(tok, line, ['default', 'read_implies_exec'], 'a personality');
    case 'capability':
      return pick(tok, line, CAPABILITIES, 'a capability');
    case 'int':
      return Number(parseBounded(tok, line, -(1n << 31n), (1n << 31n) - 1n, 'a Java int'));
    case 'bool':
      return pick(tok, line, ['true', 'false'], 'a boolean') === 'true';
    case 'memoryfile':
    case 'new-memoryfile':
      return handle(tok, line, JAVA_HANDLE_RE.memoryfile, 'a MemoryFile handle like f0');
    case 'sharedmemory':
    case 'new-sharedmemory':
      return handle(tok, line, JAVA_HANDLE_RE.sharedmemory, 'a SharedMemory handle like s0');
    case 'buffer':
    case 'new-buffer':
      return handle(tok, line, JAVA_HANDLE_RE.buffer, 'a ByteBuffer handle like b0');
  }
}

/** Parses one non-empty line into an op (no cross-line checks). */
function parseLine(text: string, line: number): Op | undefined {
  const tokens = tokenize(text, line);
  let first = tokens[0];
  if (first === undefined) return undefined;
  let proc: string = MAIN_PROC;
  let at = 0;
  if (first.text.endsWith(':') && first.str === undefined) {
    proc = handle({ text: first.text.slice(0, -1), col: first.col }, line, PROC_RE, 'a process prefix like p1:');
    at = 1;
    first = tokens[1];
    if (first === undefined) throw new ScriptError(line, text.length + 1, 'expected an op after the process prefix');
  }
  if (first.str !== undefined || !isOpKind(first.text)) {
    throw new ScriptError(line, first.col, `unknown op "${first.text}" (see docs/op-scripts.md for the list)`);
  }
  const kind = first.text;
  const specs: readonly ArgSpec[] = SIGNATURES[kind];
  const args = tokens.slice(at + 1);
  const op: Record<string, unknown> = { kind, line, proc };
  specs.forEach((spec, k) => {
    const tok = args[k];
    if (tok === undefined) {
      if (spec.default === undefined) {
        throw new ScriptError(line, text.length + 1, `${kind} needs ${specs.length} argument(s): ${specs.map((s) => s.field).join(' ')}`);
      }
      op[spec.field] = spec.default;
    } else {
      op[spec.field] = readArg(spec, tok, line);
    }
  });
  const extra = args[specs.length];
  if (extra !== undefined) throw new ScriptError(line, extra.col, `unexpected "${extra.text}": ${kind} takes ${specs.length} argument(s)`);
  return op as unknown as Op;
}

/** Handle-using argument types: what the handle is and which op defines it. */
const HANDLE_USE = {
  region: ['region', 'open or dup'],
  mapping: ['mapping', 'mmap'],
  memoryfile: ['MemoryFile', 'mf_create'],
  sharedmemory: ['SharedMemory', 'sm_create'],
  buffer: ['buffer', 'sm_map'],
} as const;

/** Cross-line checks: handles defined before use, processes forked before use. */
function checkHandles(ops: readonly Op[]): ScriptError[] {
  const errors: ScriptError[] = [];
  const live = new Map<string, Set<string>>();
  live.set(MAIN_PROC, new Set());
  const ever = new Set<string>([MAIN_PROC]);
  for (const op of ops) {
    const p = live.get(op.proc);
    if (p === undefined) {
      const why = ever.has(op.proc) ? 'has exited' : 'was never forked (use "fork ' + op.proc + '" first)';
      errors.push(new ScriptError(op.line, 1, `process ${op.proc} ${why}`));
      continue;
    }
    const specs: readonly ArgSpec[] = SIGNATURES[op.kind];
    for (const spec of specs) {
      const v = (op as unknown as Record<string, unknown>)[spec.field] as string;
      const what = HANDLE_USE[spec.type as keyof typeof HANDLE_USE];
      if (what !== undefined && !p.has(v)) errors.push(new ScriptError(op.line, 1, `${what[0]} ${v} is not defined in ${op.proc} (${what[1]} it first)`));
      if (spec.type.startsWith('new-') && spec.type !== 'new-proc') p.add(v);
    }
    if (op.kind === 'fork' || op.kind === 'exit') {
      if (op.proc !== MAIN_PROC) { errors.push(new ScriptError(op.line, 1, `only ${MAIN_PROC} may ${op.kind}`)); continue; }
      if (op.child === MAIN_PROC) { errors.push(new ScriptError(op.line, 1, `${MAIN_PROC} is the main process`)); continue; }
      if (op.kind === 'fork') {
        if (live.has(op.child)) errors.push(new ScriptError(op.line, 1, `process ${op.child} is already running`));
        live.set(op.child, new Set(p));
        ever.add(op.child);
      } else if (!live.delete(op.child)) {
        errors.push(new ScriptError(op.line, 1, `process ${op.child} is not running`));
      }
    }
  }
  return errors;
}

/**
 * A line over {@link LIMITS.lineBytes} UTF-8 bytes is an error, as in the probe (which reads at
 * most that much of a line), at the probe's column: that of the first character that starts past
 * the limit (a character cut by the limit counts as read).
 */
function overlongLine(text: string, line: number): ScriptError | undefined {
  if (text.length * 3 <= LIMITS.lineBytes) return undefined; // a UTF-16 unit is at most 3 UTF-8 bytes
  const tooLong = (col: number): ScriptError => new ScriptError(line, col, `line too long (more than ${LIMITS.lineBytes} bytes)`);
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff) continue; // the second half of a pair: counted with the first
    if (bytes >= LIMITS.lineBytes) return tooLong(i + 1);
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? 4 : 3;
  }
  return bytes > LIMITS.lineBytes ? tooLong(text.length + 1) : undefined;
}

/**
 * Parses a whole script. Throws {@link ScriptErrors} listing every bad line.
 * @param text - the script text
 */
export function parseScript(text: string): Script {
  const ops: Op[] = [];
  const errors: ScriptError[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, idx) => {
    const long = overlongLine(raw, idx + 1);
    if (long !== undefined) {
      errors.push(long);
      return;
    }
    try {
      const op = parseLine(raw, idx + 1);
      if (op !== undefined) ops.push(op);
    } catch (e) {
      if (e instanceof ScriptError) errors.push(e);
      else throw e;
    }
  });
  if (errors.length === 0) errors.push(...checkHandles(ops));
  if (errors.length > 0) throw new ScriptErrors(errors);
  return { ops };
}
