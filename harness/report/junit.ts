/**
 * JUnit XML for CI: one testsuite per target, one testcase per case or scenario, through
 * junit-report-builder (the format's corner cases — counts, attribute escaping — are its job).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import junitModule, { type Builder } from 'junit-report-builder';
import { caseFailureText, lostLine, stoppedLine, targetIds, visible } from './text.js';
import type { CaseRecord, Report } from './types.js';

/**
 * The package's types declare an ES default export, but Node loads its CommonJS build, whose
 * `module.exports` is the builder itself; accept either shape rather than trust one.
 */
const junit: Builder = 'newBuilder' in junitModule ? (junitModule as unknown as Builder) : junitModule.default;

/**
 * A stand-in for `]]>` inside failure and error bodies. The library wraps them in CDATA but splits
 * only the first `]]>` (xmlbuilder 15's `cdata` uses `String.replace` with a string), so a second
 * one would end the CDATA early and let a hostile script inject markup. We put a token that
 * contains no `]]>` in its place and split every occurrence ourselves after the build.
 */
function cdataToken(texts: readonly string[]): string {
  // Private-use characters never occur in our own text; the counter rules out hostile input.
  for (let n = 0; ; n++) {
    const token = `\uE000cdata-end-${n}\uE001`;
    if (!texts.some((t) => t.includes(token))) return token;
  }
}

/** Everything a report may pass to the builder, so the CDATA token can avoid all of it. */
function allText(report: Report): string[] {
  return [JSON.stringify(report)];
}

/**
 * A classname part without dots: CI tools split classnames at dots into packages, so `§1.3` would
 * become package `§1`, class `3`, and `adb:127.0.0.1:5555` four packages. Dots become `_`.
 */
export function classPart(text: string): string {
  return text.replace(/\./g, '_');
}

/** Classname: `ashmem.<target>` for a run; `conform.<section>` for a scenario (one package per kind). */
function className(kind: Report['kind'], c: CaseRecord): string {
  return kind === 'conform' && c.section !== undefined ? `conform.${classPart(c.section)}` : `ashmem.${classPart(c.target)}`;
}

/** Escapes an attribute value (the library's own escaping is not reachable from outside it). */
function attr(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch] ?? ch).replace(/[\t\n\r]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * Gives the k-th `<skipped/>` element the k-th message as its `message` attribute (the builder's
 * `skipped()` takes none, and Jenkins, GitHub reporters and the JUnit XSD read the attribute).
 * Only markup outside CDATA is touched: every CDATA body was built with its `]]>` replaced by a
 * token, so each section ends at the first `]]>`.
 */
function skippedMessages(xml: string, messages: readonly string[]): string {
  let k = 0;
  return xml.split(/(<!\[CDATA\[[\s\S]*?\]\]>)/).map((part) => {
    if (part.startsWith('<![CDATA[')) return part;
    return part.replace(/<skipped\/>/g, () => {
      const m = messages[k++];
      return m === undefined ? '<skipped/>' : `<skipped message="${attr(m)}"/>`;
    });
  }).join('');
}

/**
 * Renders `report` as JUnit XML (Jenkins / GitLab flavour).
 * Diverged cases are failures (message: rule and section; body: the divergence, the shrunk
 * script and the repro commands), errors are errors, skipped cases (not applicable, or never run
 * because the run stopped) carry their reason as `<skipped message>`, in `system-out` and as a
 * `reason` property. A lost target's suite says when and why in a `lost` property; a run that
 * stopped early says so in a `stopped` property on every suite.
 */
export function junitXml(report: Report): string {
  const token = cdataToken(allText(report));
  const body = (text: string): string => visible(text).split(']]>').join(token);
  const builder = junit.newBuilder();
  const skipped: string[] = [];
  builder.name(visible(`ashmem-harness ${report.kind}`));
  for (const target of targetIds(report.targets, report.cases)) {
    const info = report.targets.find((t) => t.id === target);
    const cases = report.cases.filter((c) => c.target === target);
    const suite = builder.testSuite().name(visible(target)).timestamp(visible(report.started))
      .time(cases.reduce((s, c) => s + c.durationMs, 0) / 1000);
    if (info !== undefined) {
      suite.property('profile', visible(info.profile)).property('profileReason', visible(info.profileReason));
    }
    for (const l of report.lost ?? []) if (l.id === target) suite.property('lost', visible(lostLine(l)));
    if (report.stopped !== undefined) suite.property('stopped', visible(stoppedLine(report.stopped, report.kind === 'conform' ? 'scenario runs' : 'cases')));
    for (const c of cases) {
      const tc = suite.testCase().className(visible(className(report.kind, c))).name(visible(c.id)).time(c.durationMs / 1000);
      tc.property('profile', visible(c.profile));
      if (c.title !== undefined) tc.property('title', visible(c.title));
      if (c.reason !== undefined) tc.property('reason', visible(c.reason));
      const out: string[] = [];
      switch (c.status) {
        case 'passed':
          break;
        case 'diverged': {
          const d = c.divergence ?? c.shrunk?.divergence;
          const message = d !== undefined ? `${d.rule} (${d.section})` : (c.reason ?? 'diverged');
          tc.failure(visible(message), 'divergence').stacktrace(body(caseFailureText(c) || message));
          break;
        }
        case 'error':
          tc.error(visible(c.reason ?? 'error'), 'error', body(c.reason ?? 'error'));
          break;
        case 'skipped':
          tc.skipped();
          skipped.push(visible(c.reason ?? '(no reason given)'));
          out.push(`skipped: ${c.reason ?? '(no reason given)'}`);
          break;
      }
      if (c.logs?.logcat !== undefined) out.push(`logcat:\n${c.logs.logcat}`);
      if (out.length > 0) tc.standardOutput(body(out.join('\n\n')));
      if (c.logs?.dmesg !== undefined) tc.standardError(body(`dmesg:\n${c.logs.dmesg}`));
    }
  }
  return skippedMessages(builder.build(), skipped).split(token).join(']]]]><![CDATA[>');
}

/** Writes {@link junitXml} of `report` to `file`, creating its directory. */
export function writeJunit(report: Report, file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, junitXml(report));
}
