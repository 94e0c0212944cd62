/**
 * An index of the public Android API (framework and core library classes, their methods,
 * constructors and fields, each with the API level that added it and the one that removed it),
 * read from the TypeScript declarations of `@nativescript/types-android`
 * (`lib/android/android-platform-21-37-merged.d.ts`: API 21–37 merged, members tagged
 * `@since N` and `@deprecated Removed in API N`).
 *
 * Limits of that source, and so of every check built on it:
 * - Levels below 21 are not covered: a member without `@since` is taken as present at 21.
 * - Java's numeric primitives all appear as `number` (and `char` as `string`), so `put(int, byte)`
 *   and `put(int, long)` look alike; reference types, arity and names are exact.
 * - `String` and `CharSequence` both appear as `string`; generics are erased to `any`.
 * - Only public API is declared: hidden (`@hide`) and `@SystemApi` members are absent, which is
 *   what an app's check wants.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import ts from 'typescript';

/** The first level the declarations cover; members without `@since` are dated to it. */
export const FIRST_LEVEL = 21;

/** A method or constructor (`<init>`) as declared. */
export interface ApiMethod {
  readonly name: string;
  /** Parameter types as written in the declarations (`number`, `android.os.Bundle`, ...). */
  readonly params: readonly string[];
  /** Return type as written (`void` for constructors). */
  readonly returns: string;
  readonly since: number;
  /** The level that removed it, when it was removed. */
  readonly removed?: number;
}

/** A field as declared. */
export interface ApiField {
  readonly name: string;
  readonly type: string;
  readonly since: number;
  readonly removed?: number;
}

/** A class or interface, by its binary name with slashes (`android/os/Build$VERSION`). */
export interface ApiClass {
  readonly name: string;
  readonly since: number;
  readonly removed?: number;
  /** Dotted source names of the superclass and interfaces (`android.os.BaseBundle`). */
  readonly supers: readonly string[];
  readonly methods: readonly ApiMethod[];
  readonly fields: readonly ApiField[];
}

/** The whole index. */
export interface ApiIndex {
  /** Classes by binary name with slashes. */
  readonly classes: ReadonlyMap<string, ApiClass>;
  /** Maps a dotted source name (`android.os.Build.VERSION`) to its binary name. */
  binaryName(dotted: string): string | undefined;
}

/** The declarations file could not be found or read. */
export class ApiSourceError extends Error {
  override readonly name = 'ApiSourceError';
}

/** Where the merged declarations live in the installed package. */
export function declarationsPath(): string {
  const require = createRequire(import.meta.url);
  try {
    const pkg = require.resolve('@nativescript/types-android/package.json');
    return pkg.replace(/package\.json$/, 'lib/android/android-platform-21-37-merged.d.ts');
  } catch (e) {
    throw new ApiSourceError(`@nativescript/types-android is not installed (run npm ci): ${String(e)}`);
  }
}

interface Tags { since: number; removed?: number }

/** Reads `@since N` and `@deprecated Removed in API N` from a declaration's JSDoc. */
function tags(node: ts.Node): Tags {
  let since = FIRST_LEVEL;
  let removed: number | undefined;
  for (const tag of ts.getJSDocTags(node)) {
    const text = typeof tag.comment === 'string' ? tag.comment : ts.getTextOfJSDocComment(tag.comment) ?? '';
    if (tag.tagName.text === 'since') {
      const n = Number.parseInt(text, 10);
      if (Number.isFinite(n)) since = n;
    } else if (tag.tagName.text === 'deprecated') {
      const m = /Removed in API (\d+)/.exec(text);
      if (m?.[1] !== undefined) removed = Number(m[1]);
    }
  }
  return removed === undefined ? { since } : { since, removed };
}

function withRemoved<T extends object>(base: T, removed: number | undefined): T & { removed?: number } {
  return removed === undefined ? base : { ...base, removed };
}

interface RawClass {
  readonly dotted: string;
  readonly tags: Tags;
  readonly supers: string[];
  readonly methods: ApiMethod[];
  readonly fields: ApiField[];
}

function typeText(t: ts.TypeNode | undefined, sf: ts.SourceFile): string {
  return t === undefined ? 'any' : t.getText(sf);
}

/** Collects the classes under one `declare module` / `export module` body. */
function collect(body: ts.ModuleBody | undefined, path: readonly string[], sf: ts.SourceFile, out: RawClass[]): void {
  if (body === undefined) return;
  if (ts.isModuleDeclaration(body)) {
    collect(body.body, [...path, body.name.text], sf, out);
    return;
  }
  if (!ts.isModuleBlock(body)) return;
  for (const st of body.statements) {
    if (ts.isModuleDeclaration(st)) {
      collect(st.body, [...path, st.name.getText(sf)], sf, out);
    } else if (ts.isClassDeclaration(st) && st.name !== undefined) {
      const supers: string[] = [];
      for (const h of st.heritageClauses ?? []) for (const t of h.types) supers.push(t.expression.getText(sf));
      const methods: ApiMethod[] = [];
      const fields: ApiField[] = [];
      for (const m of st.members) {
        const mt = tags(m);
        if (ts.isMethodDeclaration(m) && m.name !== undefined) {
          methods.push(withRemoved({
            name: m.name.getText(sf),
            params: m.parameters.map((p) => typeText(p.type, sf)),
            returns: typeText(m.type, sf),
            since: mt.since,
          }, mt.removed));
        } else if (ts.isConstructorDeclaration(m)) {
          // NativeScript's "implementation" constructor of an interface is not a Java constructor.
          const isImpl = m.parameters.length === 1 && m.parameters[0]?.type !== undefined && ts.isTypeLiteralNode(m.parameters[0].type);
          if (!isImpl) {
            methods.push(withRemoved({ name: '<init>', params: m.parameters.map((p) => typeText(p.type, sf)), returns: 'void', since: mt.since }, mt.removed));
          }
        } else if (ts.isPropertyDeclaration(m) && m.name.getText(sf) !== 'class') {
          fields.push(withRemoved({ name: m.name.getText(sf), type: typeText(m.type, sf), since: mt.since }, mt.removed));
        }
      }
      out.push({ dotted: [...path, st.name.text].join('.'), tags: tags(st), supers, methods, fields });
    }
  }
}

/** The index as stored in the cache: classes, and dotted → binary names. */
interface CachedIndex { readonly key: string; readonly classes: ApiClass[]; readonly names: [string, string][] }

function fromCache(c: CachedIndex): ApiIndex {
  const names = new Map(c.names);
  return { classes: new Map(c.classes.map((k) => [k.name, k])), binaryName: (d) => names.get(d) };
}

/**
 * Builds the index from a declarations file (by default the installed package's), parsing the
 * 10 MB of declarations once (~4 s) and then reading a JSON cache in node_modules/.cache,
 * keyed by the file's path, size and mtime.
 * @param file - path of a `.d.ts` in the format of `@nativescript/types-android`
 * @param cacheDir - where the cache lives; `null` for none
 */
export function loadApiIndex(file: string = declarationsPath(), cacheDir: string | null = defaultCacheDir(file)): ApiIndex {
  let key = '';
  try {
    const st = statSync(file);
    key = `${path.resolve(file)}|${st.size}|${st.mtimeMs}|1`;
  } catch (e) {
    throw new ApiSourceError(`cannot read the Android API declarations at ${file}: ${String(e)}`);
  }
  const cacheFile = cacheDir === null ? undefined : path.join(cacheDir, 'android-api-index.json');
  if (cacheFile !== undefined) {
    try {
      const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as CachedIndex;
      if (cached.key === key) return fromCache(cached);
    } catch {
      // no cache yet, or a broken one: rebuild it
    }
  }
  const index = parseIndex(file);
  if (cacheFile !== undefined && cacheDir !== null) {
    try {
      mkdirSync(cacheDir, { recursive: true });
      const names: [string, string][] = [];
      const stored: CachedIndex = { key, classes: [...index.classes.values()], names };
      for (const c of index.dotted) {
        const b = index.binaryName(c);
        if (b !== undefined) names.push([c, b]);
      }
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(stored));
      renameSync(tmp, cacheFile); // atomic: concurrent builds never read half a file
    } catch {
      // a read-only tree: go on without a cache
    }
  }
  return index;
}

/** node_modules/.cache/ashmem-harness beside the package the declarations come from. */
function defaultCacheDir(file: string): string | null {
  const at = file.lastIndexOf(`${path.sep}node_modules${path.sep}`);
  return at < 0 ? null : path.join(file.slice(0, at), 'node_modules', '.cache', 'ashmem-harness');
}

/** Parses the declarations into an index (and the dotted names it knows, for the cache). */
function parseIndex(file: string): ApiIndex & { readonly dotted: readonly string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ApiSourceError(`cannot read the Android API declarations at ${file}: ${String(e)}`);
  }
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const raw: RawClass[] = [];
  for (const st of sf.statements) {
    if (ts.isModuleDeclaration(st)) collect(st.body, [st.name.getText(sf)], sf, raw);
  }
  // A class declared in several blocks (the merged file repeats some) is merged.
  const byDotted = new Map<string, RawClass>();
  for (const c of raw) {
    const prev = byDotted.get(c.dotted);
    if (prev === undefined) byDotted.set(c.dotted, c);
    else {
      prev.methods.push(...c.methods);
      prev.fields.push(...c.fields);
      prev.supers.push(...c.supers.filter((s) => !prev.supers.includes(s)));
    }
  }
  const binaryCache = new Map<string, string | undefined>();
  const binaryName = (dotted: string): string | undefined => {
    if (binaryCache.has(dotted)) return binaryCache.get(dotted);
    let result: string | undefined;
    if (byDotted.has(dotted)) {
      const cut = dotted.lastIndexOf('.');
      const outer = cut < 0 ? undefined : dotted.slice(0, cut);
      const outerBinary = outer !== undefined && byDotted.has(outer) ? binaryName(outer) : undefined;
      result = outerBinary !== undefined ? `${outerBinary}$${dotted.slice(cut + 1)}` : dotted.replaceAll('.', '/');
    }
    binaryCache.set(dotted, result);
    return result;
  };
  const classes = new Map<string, ApiClass>();
  for (const c of byDotted.values()) {
    const name = binaryName(c.dotted);
    if (name === undefined) continue;
    classes.set(name, withRemoved({ name, since: c.tags.since, supers: c.supers, methods: c.methods, fields: c.fields }, c.tags.removed));
  }
  return { classes, binaryName, dotted: [...byDotted.keys()] };
}
