/**
 * A small, strict XML reader for the report tests (no dependency): it rejects anything that is
 * not well-formed — unbalanced tags, unquoted or duplicate attributes, a raw `<` or a bad entity
 * in text or attributes, characters XML 1.0 forbids — and decodes entities and CDATA, so a test
 * can compare what a reader of the file gets with what the report was given. The HTML report is
 * written as well-formed markup, so it goes through the same reader (after its DOCTYPE).
 */

/** An element: its name, decoded attributes and children (elements and decoded text). */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: (XmlElement | string)[];
}

// eslint-disable-next-line no-control-regex -- XML 1.0's forbidden characters are the point
const FORBIDDEN = /[\0-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;

function decode(raw: string, where: number): string {
  if (raw.includes('<')) throw new SyntaxError(`raw '<' at ${where}`);
  return raw.replace(/&([^;&\s]*);?/g, (m, ent: string) => {
    if (!m.endsWith(';')) throw new SyntaxError(`unterminated entity ${JSON.stringify(m)} at ${where}`);
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    const hit = named[ent];
    if (hit !== undefined) return hit;
    const num = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(ent);
    if (num === null) throw new SyntaxError(`unknown entity &${ent}; at ${where}`);
    return String.fromCodePoint(num[1] !== undefined ? parseInt(num[1], 16) : Number(num[2]));
  });
}

/** Parses `text` (an XML document, or HTML written as well-formed markup) into its root element. */
export function parseXml(text: string): XmlElement {
  const bad = FORBIDDEN.exec(text);
  if (bad !== null) throw new SyntaxError(`forbidden character U+${bad[0].charCodeAt(0).toString(16)} at ${bad.index}`);
  let pos = 0;
  const skipProlog = (): void => {
    for (;;) {
      const rest = text.slice(pos);
      const ws = /^\s*/.exec(rest)?.[0].length ?? 0;
      pos += ws;
      if (text.startsWith('<?', pos)) pos = text.indexOf('?>', pos) + 2;
      else if (text.startsWith('<!--', pos)) pos = text.indexOf('-->', pos) + 3;
      else if (/^<!DOCTYPE/i.test(text.slice(pos, pos + 9))) pos = text.indexOf('>', pos) + 1;
      else return;
      if (pos < 2) throw new SyntaxError('unterminated prolog');
    }
  };
  skipProlog();
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (pos < text.length) {
    const top = stack[stack.length - 1];
    if (top === undefined) {
      if (root !== undefined) {
        if (text.slice(pos).trim() !== '') throw new SyntaxError(`content after the root element at ${pos}`);
        break;
      }
    }
    if (text.startsWith('<![CDATA[', pos)) {
      const end = text.indexOf(']]>', pos);
      if (end < 0 || top === undefined) throw new SyntaxError(`bad CDATA at ${pos}`);
      top.children.push(text.slice(pos + 9, end));
      pos = end + 3;
    } else if (text.startsWith('<!--', pos)) {
      const end = text.indexOf('-->', pos);
      if (end < 0) throw new SyntaxError(`unterminated comment at ${pos}`);
      pos = end + 3;
    } else if (text.startsWith('</', pos)) {
      const m = /^<\/([A-Za-z_:][-A-Za-z0-9_:.]*)\s*>/.exec(text.slice(pos));
      if (m === null || top === undefined || m[1] !== top.name) throw new SyntaxError(`mismatched end tag at ${pos}: ${text.slice(pos, pos + 20)} (open: ${top?.name ?? 'none'})`);
      stack.pop();
      pos += m[0].length;
    } else if (text[pos] === '<') {
      const name = NAME.exec(text.slice(pos + 1))?.[0];
      if (name === undefined) throw new SyntaxError(`bad tag at ${pos}: ${text.slice(pos, pos + 20)}`);
      pos += 1 + name.length;
      const node: XmlElement = { name, attrs: {}, children: [] };
      for (;;) {
        const m = /^(\s+)([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*("([^"]*)"|'([^']*)')/.exec(text.slice(pos));
        if (m === null) break;
        const key = m[2] as string;
        if (key in node.attrs) throw new SyntaxError(`duplicate attribute ${key} at ${pos}`);
        node.attrs[key] = decode(m[4] ?? m[5] ?? '', pos);
        pos += m[0].length;
      }
      const close = /^\s*(\/?)>/.exec(text.slice(pos));
      if (close === null) throw new SyntaxError(`bad attribute or tag end at ${pos}: ${text.slice(pos, pos + 30)}`);
      pos += close[0].length;
      if (top !== undefined) top.children.push(node);
      else if (root === undefined) root = node;
      else throw new SyntaxError(`second root element at ${pos}`);
      if (close[1] !== '/') stack.push(node);
    } else {
      const end = text.indexOf('<', pos);
      const raw = text.slice(pos, end < 0 ? text.length : end);
      if (top === undefined) {
        if (raw.trim() !== '') throw new SyntaxError(`text outside the root element at ${pos}`);
      } else {
        if (raw.includes(']]>')) throw new SyntaxError(`']]>' in text at ${pos}`);
        top.children.push(decode(raw, pos));
      }
      pos = end < 0 ? text.length : end;
    }
  }
  if (stack.length > 0) throw new SyntaxError(`unclosed element <${stack[stack.length - 1]?.name ?? ''}>`);
  if (root === undefined) throw new SyntaxError('no root element');
  return root;
}

/** Every element below `node` (depth first, document order) that `pred` accepts. */
export function findAll(node: XmlElement, pred: (e: XmlElement) => boolean): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement): void => {
    for (const c of e.children) {
      if (typeof c === 'string') continue;
      if (pred(c)) out.push(c);
      walk(c);
    }
  };
  walk(node);
  return out;
}

/** Elements named `name`, optionally having class `cls` among their classes. */
export function byTag(node: XmlElement, name: string, cls?: string): XmlElement[] {
  return findAll(node, (e) => e.name === name && (cls === undefined || (e.attrs.class ?? '').split(/\s+/).includes(cls)));
}

/** The decoded text content of `node`. */
export function textOf(node: XmlElement): string {
  return node.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
}

/** Direct child elements of `node`. */
export function childElements(node: XmlElement): XmlElement[] {
  return node.children.filter((c): c is XmlElement => typeof c !== 'string');
}
