/**
 * The folder of this package: the checkout when run from sources (harness/…), the installed
 * package when run from its compiled JavaScript (dist/harness/…). Files the harness reads at run
 * time (the probe's sources and builds, conformance/scenarios) are found from here, never from a
 * fixed number of `..` that holds for one of the two layouts only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The nearest folder at or above `from` that holds a package.json (dist/ holds none).
 * @param from - where to start (default: this file's folder)
 */
export function packageRoot(from: string = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json at or above ${from}`);
  }
}
