#!/usr/bin/env node
// The ashmem-harness command.
// * In the checkout (harness/cli.ts beside this folder) the TypeScript sources run directly through
//   tsx, a devDependency: no build step, and never a stale dist/.
// * An installed package (npm pack / npm install) ships no sources, only the JavaScript that
//   `npm run build` compiles into dist/ (prepack runs it), and needs no devDependency.
import fs from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

const sources = new URL('../harness/cli.ts', import.meta.url);
const compiled = new URL('../dist/harness/cli.js', import.meta.url);

async function load() {
  if (fs.existsSync(sources)) {
    try {
      const { register } = await import('tsx/esm/api');
      register();
      return await import(sources.href);
    } catch (e) {
      // A checkout installed without devDependencies: the compiled code, if built.
      if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !fs.existsSync(compiled)) throw e;
    }
  }
  if (!fs.existsSync(compiled)) {
    process.stderr.write('ashmem-harness: neither tsx (a devDependency: npm ci) nor the compiled dist/ (npm run build) is here\n');
    process.exit(2);
  }
  return import(compiled.href);
}

const cli = await load();
cli.runAsProgram(process.argv.slice(2));
