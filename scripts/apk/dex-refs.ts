/**
 * What a dex file defines and what it references, read from `dexdump -a -d` output
 * (Debian's `dexdump`): every method, field and type reference in code, every catch type,
 * each class's superclass and interfaces, and the API level a class is held to by a
 * `TargetApi` / `RequiresApi` class annotation (any visibility).
 */

/** A class the dex itself defines. */
export interface DexClass {
  /** Descriptor, e.g. `Ldev/ashmemharness/fixture/Runner;`. */
  readonly descriptor: string;
  readonly superclass: string | undefined;
  readonly interfaces: readonly string[];
  /** `name:(params)ret` of every method it declares. */
  readonly methods: ReadonlySet<string>;
  /** `name:type` of every field it declares. */
  readonly fields: ReadonlySet<string>;
  /** The level from its `TargetApi`/`RequiresApi` annotation, if any. */
  readonly apiFloor: number | undefined;
}

/** One reference made by a class of the dex. */
export interface DexRef {
  /** The referencing class's descriptor. */
  readonly from: string;
  readonly kind: 'method' | 'field' | 'type';
  /** The owning class's descriptor (for `type`: the type itself). */
  readonly owner: string;
  /** Member name (`<init>` for constructors); empty for `type`. */
  readonly name: string;
  /** `(params)ret` for methods, the field type for fields; empty for `type`. */
  readonly descriptor: string;
}

/** Everything read from one dump. */
export interface DexDump {
  readonly classes: ReadonlyMap<string, DexClass>;
  readonly refs: readonly DexRef[];
}

/** The dump did not look like `dexdump -a -d` output. */
export class DexDumpFormatError extends Error {
  override readonly name = 'DexDumpFormatError';
}

const CLASS_HEADER = /^Class #(\d+)\s+-\s*$/;
const ANNOTATIONS_HEADER = /^Class #(\d+) annotations:\s*$/;
const DESCRIPTOR = /^\s+Class descriptor\s+:\s+'([^']+)'/;
const SUPERCLASS = /^\s+Superclass\s+:\s+'([^']+)'/;
const LIST_ITEM = /^\s+#\d+\s+:\s+'([^']+)'/;
const MEMBER_IN = /^\s+#\d+\s+:\s+\(in (\S+)\)/;
const MEMBER_NAME = /^\s+name\s+:\s+'([^']+)'/;
const MEMBER_TYPE = /^\s+type\s+:\s+'([^']+)'/;
const METHOD_REF = /, (\[*L[^;]+;|\[+[ZBSCIJFD])\.([^:\s]+):(\([^)]*\)\S+) \/\/ method@/;
const FIELD_REF = /, (L[^;]+;)\.([^:\s]+):(\S+) \/\/ field@/;
const TYPE_REF = /, (\S+) \/\/ type@/;
const CATCH_TYPE = /^\s+(L[^;]+;) -> 0x[0-9a-f]+/;
const API_ANNOTATION = /VISIBILITY_\w+ L(?:android\/annotation\/TargetApi|androidx\/annotation\/RequiresApi|android\/support\/annotation\/RequiresApi);.*?\b(?:value|api)=(\d+)/;

/** Element type of an array descriptor (`[[Ljava/lang/String;` → `Ljava/lang/String;`). */
export function elementType(descriptor: string): string {
  return descriptor.replace(/^\[+/, '');
}

/**
 * Parses `dexdump -a -d` output.
 * @param text - the dump
 */
export function parseDexDump(text: string): DexDump {
  interface Building { descriptor: string; superclass?: string; interfaces: string[]; methods: Set<string>; fields: Set<string>; apiFloor?: number }
  const classes = new Map<string, DexClass>();
  const refs: DexRef[] = [];
  const floors = new Map<number, number>();
  let current: Building | undefined;
  let currentIndex = -1;
  let annotationsOf: number | undefined;
  let inClassAnnotations = false;
  let section = '';
  let memberName: string | undefined;
  let memberKind: 'method' | 'field' | undefined;

  const finish = (): void => {
    if (current === undefined) return;
    const floor = floors.get(currentIndex);
    classes.set(current.descriptor, {
      descriptor: current.descriptor,
      superclass: current.superclass,
      interfaces: current.interfaces,
      methods: current.methods,
      fields: current.fields,
      apiFloor: floor,
    });
    current = undefined;
  };

  for (const line of text.split('\n')) {
    const header = CLASS_HEADER.exec(line);
    if (header?.[1] !== undefined) {
      finish();
      currentIndex = Number(header[1]);
      annotationsOf = undefined;
      section = '';
      continue;
    }
    const ann = ANNOTATIONS_HEADER.exec(line);
    if (ann?.[1] !== undefined) {
      finish();
      annotationsOf = Number(ann[1]);
      inClassAnnotations = false;
      continue;
    }
    if (annotationsOf !== undefined && current === undefined) {
      if (/^Annotations on class/.test(line)) inClassAnnotations = true;
      else if (/^Annotations on /.test(line)) inClassAnnotations = false;
      const level = API_ANNOTATION.exec(line);
      if (inClassAnnotations && level?.[1] !== undefined) floors.set(annotationsOf, Number(level[1]));
      continue;
    }
    const desc = DESCRIPTOR.exec(line);
    if (desc?.[1] !== undefined) {
      current = { descriptor: desc[1], interfaces: [], methods: new Set(), fields: new Set() };
      continue;
    }
    if (current === undefined) continue;
    const sup = SUPERCLASS.exec(line);
    if (sup?.[1] !== undefined) { current.superclass = sup[1]; continue; }
    const sectionMatch = /^ {2}(Interfaces|Static fields|Instance fields|Direct methods|Virtual methods)\s+-/.exec(line);
    if (sectionMatch?.[1] !== undefined) { section = sectionMatch[1]; continue; }
    if (section === 'Interfaces') {
      const item = LIST_ITEM.exec(line);
      if (item?.[1] !== undefined) { current.interfaces.push(item[1]); continue; }
    }
    if (MEMBER_IN.test(line)) {
      memberKind = section.endsWith('fields') ? 'field' : 'method';
      memberName = undefined;
      continue;
    }
    const name = MEMBER_NAME.exec(line);
    if (name?.[1] !== undefined && memberKind !== undefined) { memberName = name[1]; continue; }
    const type = MEMBER_TYPE.exec(line);
    if (type?.[1] !== undefined && memberKind !== undefined && memberName !== undefined) {
      (memberKind === 'field' ? current.fields : current.methods).add(`${memberName}:${type[1]}`);
      memberKind = undefined;
      continue;
    }
    const m = METHOD_REF.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined && m[3] !== undefined) {
      refs.push({ from: current.descriptor, kind: 'method', owner: m[1], name: m[2], descriptor: m[3] });
      continue;
    }
    const f = FIELD_REF.exec(line);
    if (f?.[1] !== undefined && f[2] !== undefined && f[3] !== undefined) {
      refs.push({ from: current.descriptor, kind: 'field', owner: f[1], name: f[2], descriptor: f[3] });
      continue;
    }
    const t = TYPE_REF.exec(line);
    if (t?.[1] !== undefined) {
      refs.push({ from: current.descriptor, kind: 'type', owner: t[1], name: '', descriptor: '' });
      continue;
    }
    const c = CATCH_TYPE.exec(line);
    if (c?.[1] !== undefined) refs.push({ from: current.descriptor, kind: 'type', owner: c[1], name: '', descriptor: '' });
  }
  finish();
  if (classes.size === 0) throw new DexDumpFormatError('no "Class descriptor" lines: is this `dexdump -a -d` output?');
  for (const cls of classes.values()) {
    for (const s of [cls.superclass, ...cls.interfaces]) {
      if (s !== undefined) refs.push({ from: cls.descriptor, kind: 'type', owner: s, name: '', descriptor: '' });
    }
  }
  return { classes, refs };
}

/**
 * Splits a method descriptor into parameter descriptors and the return descriptor.
 * @param descriptor - e.g. `(I[BLjava/lang/String;)V`
 */
export function splitMethodDescriptor(descriptor: string): { params: string[]; returns: string } {
  const close = descriptor.indexOf(')');
  if (!descriptor.startsWith('(') || close < 0) throw new DexDumpFormatError(`not a method descriptor: ${descriptor}`);
  const body = descriptor.slice(1, close);
  const params: string[] = [];
  let i = 0;
  while (i < body.length) {
    let j = i;
    while (body[j] === '[') j++;
    if (body[j] === 'L') {
      const end = body.indexOf(';', j);
      if (end < 0) throw new DexDumpFormatError(`unterminated class name in ${descriptor}`);
      j = end;
    }
    params.push(body.slice(i, j + 1));
    i = j + 1;
  }
  return { params, returns: descriptor.slice(close + 1) };
}
