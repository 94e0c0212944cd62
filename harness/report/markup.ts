/**
 * Escaping for the HTML report (and the SVG inside it). Every string that reaches the page goes
 * through {@link esc}: scripts, scenario names, target serials and results may hold markup,
 * quotes and any byte.
 */
import { visible } from './text.js';

const ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes `text` for HTML text and double- or single-quoted attribute values alike, with the
 * characters HTML may not carry shown as visible escapes ({@link visible}).
 */
export function esc(text: string): string {
  return visible(text).replace(/[&<>"']/g, (c) => ENTITY[c] ?? c);
}

/** ` name="value"` pairs, escaped; `undefined` values left out. */
export function attrs(a: Record<string, string | number | undefined>): string {
  let out = '';
  for (const [k, v] of Object.entries(a)) if (v !== undefined) out += ` ${k}="${esc(String(v))}"`;
  return out;
}

/** An element with escaped attributes around already-built `inner` markup. */
export function el(tag: string, a: Record<string, string | number | undefined>, inner = ''): string {
  return `<${tag}${attrs(a)}>${inner}</${tag}>`;
}
