/**
 * Checks that every framework class, method and field a dex references exists at the API level
 * it must run on (minSdk, or the level a class's `TargetApi` annotation holds it to), and was
 * not removed since. References to the dex's own classes are resolved through their own
 * declarations and then their framework superclasses.
 */
import type { ApiClass, ApiField, ApiIndex, ApiMethod } from './android-api.js';
import { elementType, splitMethodDescriptor, type DexDump, type DexRef } from './dex-refs.js';

/** One reference that would fail on a device. */
export interface ApiProblem {
  readonly ref: DexRef;
  /** The level the reference was checked at. */
  readonly level: number;
  /** What is wrong, in words: `android.os.MemoryFile.readByts([BIII)I: no such method ...`. */
  readonly message: string;
}

/** The outcome of a check. */
export interface ApiCheckReport {
  readonly problems: readonly ApiProblem[];
  /** References checked against the framework (after de-duplication). */
  readonly frameworkRefs: number;
  /** References to the dex's own classes. */
  readonly ownRefs: number;
  /** Classes held to a level above minSdk, by descriptor. */
  readonly floors: ReadonlyMap<string, number>;
}

const PRIMITIVES = 'ZBSCIJFDV';

/** `Landroid/os/Build$VERSION;` → `android/os/Build$VERSION`; undefined for primitives. */
function binaryOf(descriptor: string): string | undefined {
  const el = elementType(descriptor);
  return el.startsWith('L') && el.endsWith(';') ? el.slice(1, -1) : undefined;
}

/** Human form of a descriptor owner: `android.os.Build$VERSION`. */
function pretty(descriptor: string): string {
  return (binaryOf(descriptor) ?? descriptor).replaceAll('/', '.');
}

/** Splits a top-level union and drops `null` / `undefined`. */
function stripNullable(ts: string): string {
  const parts = ts.split('|').map((p) => p.trim()).filter((p) => p !== 'null' && p !== 'undefined');
  return parts.length === 1 ? (parts[0] as string) : ts.trim();
}

/**
 * True when a declared TypeScript type can stand for a Java descriptor (see the limits in
 * `android-api.ts`: numbers are loose, reference types exact).
 */
export function typeMatches(tsType: string, descriptor: string, index: ApiIndex): boolean {
  const t = stripNullable(tsType);
  const isRef = descriptor.startsWith('L') || descriptor.startsWith('[');
  switch (t) {
    case 'any': case 'unknown': return isRef;
    case 'number': return 'IJSBFDC'.includes(descriptor) && descriptor.length === 1;
    case 'string': return descriptor === 'Ljava/lang/String;' || descriptor === 'Ljava/lang/CharSequence;' || descriptor === 'C';
    case 'boolean': return descriptor === 'Z';
    case 'void': return descriptor === 'V';
  }
  const arr = /^androidNative\.Array<(.*)>$/.exec(t);
  if (arr?.[1] !== undefined) return descriptor.startsWith('[') && typeMatches(arr[1], descriptor.slice(1), index);
  const base = t.replace(/<.*>$/s, '').trim();
  if (/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)+$/.test(base)) {
    const binary = index.binaryName(base) ?? base.replaceAll('.', '/');
    return descriptor === `L${binary};`;
  }
  // A type parameter (T, K, ...) or an inline object/function type: erased to some reference.
  return isRef;
}

interface Found<M> { readonly member: M; readonly owner: ApiClass }

/** Walks a framework class and its supertypes for a member. */
function findMember<M extends ApiMethod | ApiField>(
  index: ApiIndex,
  start: string,
  pick: (cls: ApiClass) => readonly M[],
  accept: (m: M) => boolean,
): { found: Found<M>[]; sameName: Found<M>[] } {
  const seen = new Set<string>();
  const found: Found<M>[] = [];
  const sameName: Found<M>[] = [];
  const queue = [start];
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    const cls = index.classes.get(name);
    if (cls === undefined) continue;
    for (const m of pick(cls)) {
      if (accept(m)) found.push({ member: m, owner: cls });
      else sameName.push({ member: m, owner: cls });
    }
    if (found.length > 0) break;
    for (const s of cls.supers) {
      const b = index.binaryName(s);
      if (b !== undefined) queue.push(b);
    }
    if (cls.supers.length === 0 && name !== 'java/lang/Object') queue.push('java/lang/Object');
  }
  return { found, sameName };
}

function describe(m: ApiMethod): string {
  return `${m.name}(${m.params.join(', ')}): ${m.returns}`;
}

/**
 * Checks every reference of a dex against the API index.
 * @param dump - the parsed `dexdump -a -d` output
 * @param index - the Android API
 * @param minSdk - the level every class must run on, unless its annotation says more
 */
export function checkApi(dump: DexDump, index: ApiIndex, minSdk: number): ApiCheckReport {
  const problems: ApiProblem[] = [];
  const floors = new Map<string, number>();
  for (const c of dump.classes.values()) if (c.apiFloor !== undefined && c.apiFloor > minSdk) floors.set(c.descriptor, c.apiFloor);
  const levelOf = (from: string): number => floors.get(from) ?? minSdk;
  let frameworkRefs = 0;
  let ownRefs = 0;
  const done = new Set<string>();

  /** The framework class a reference lands on: own classes are climbed through their supers. */
  const landing = (ref: DexRef): string | undefined => {
    let owner: string | undefined = ref.owner;
    for (;;) {
      if (owner === undefined) return undefined;
      const own = dump.classes.get(owner);
      if (own === undefined) return binaryOf(owner);
      const key = `${ref.name}:${ref.descriptor}`;
      if ((ref.kind === 'method' ? own.methods : own.fields).has(key)) return undefined;
      if (ref.kind === 'method' && own.interfaces.length > 0) {
        // An interface method of our own class resolves in the first framework interface that has it.
        for (const i of own.interfaces) {
          const b = binaryOf(i);
          if (b !== undefined && !dump.classes.has(i) && index.classes.get(b)?.methods.some((m) => m.name === ref.name)) return b;
        }
      }
      owner = own.superclass;
    }
  };

  for (const ref of dump.refs) {
    const level = levelOf(ref.from);
    const key = `${level}|${ref.kind}|${ref.owner}|${ref.name}|${ref.descriptor}`;
    if (done.has(key)) continue;
    done.add(key);
    const problem = (message: string): void => { problems.push({ ref, level, message }); };

    if (ref.kind === 'type') {
      const b = binaryOf(ref.owner);
      if (b === undefined) { if (!PRIMITIVES.includes(elementType(ref.owner))) problem(`${ref.owner}: not a type descriptor`); continue; }
      if (dump.classes.has(`L${b};`)) { ownRefs++; continue; }
      frameworkRefs++;
      const cls = index.classes.get(b);
      if (cls === undefined) problem(`${pretty(ref.owner)}: no such class in the Android API`);
      else if (cls.since > level) problem(`${pretty(ref.owner)}: added in API ${cls.since}, above ${level}`);
      else if (cls.removed !== undefined) problem(`${pretty(ref.owner)}: removed in API ${cls.removed}`);
      continue;
    }

    if (ref.owner.startsWith('[')) { frameworkRefs++; continue; } // array methods (clone) exist at every level
    const start = landing(ref);
    if (start === undefined) { ownRefs++; continue; }
    frameworkRefs++;
    const startClass = index.classes.get(start);
    const what = `${pretty(`L${start};`)}.${ref.name}${ref.kind === 'method' ? '' : ':'}${ref.descriptor}`;
    if (startClass === undefined) { problem(`${what}: no such class in the Android API`); continue; }

    let since: number;
    let removed: number | undefined;
    if (ref.kind === 'method') {
      const { params, returns } = splitMethodDescriptor(ref.descriptor);
      const { found, sameName } = findMember(index, start, (c) => c.methods, (m) =>
        m.name === ref.name && m.params.length === params.length &&
        m.params.every((p, k) => typeMatches(p, params[k] as string, index)) &&
        (ref.name === '<init>' || typeMatches(m.returns, returns, index)));
      const hit = found.sort((a, b) => a.member.since - b.member.since)[0];
      if (hit === undefined) {
        const near = sameName.filter((f) => f.member.name === ref.name).map((f) => describe(f.member));
        problem(`${what}: no such method in the Android API${near.length > 0 ? ` (declared: ${near.slice(0, 4).join('; ')})` : ` (no method named "${ref.name}" in ${pretty(`L${start};`)} or its supertypes)`}`);
        continue;
      }
      since = Math.max(hit.member.since, hit.owner.since, startClass.since);
      removed = hit.member.removed ?? hit.owner.removed;
    } else {
      const { found } = findMember(index, start, (c) => c.fields, (f) => f.name === ref.name && typeMatches(f.type, ref.descriptor, index));
      const hit = found[0];
      if (hit === undefined) { problem(`${what}: no such field in the Android API`); continue; }
      since = Math.max(hit.member.since, hit.owner.since, startClass.since);
      removed = hit.member.removed ?? hit.owner.removed;
    }
    if (since > level) problem(`${what}: added in API ${since}, above ${level}`);
    else if (removed !== undefined) problem(`${what}: removed in API ${removed}`);
  }
  return { problems, frameworkRefs, ownRefs, floors };
}
