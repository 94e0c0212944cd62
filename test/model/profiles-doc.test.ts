/** docs/profiles.md is generated from the profile table and must be current. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PROFILES } from '../../harness/model/profile.js';
import { profilesDoc } from '../../scripts/profiles-doc.js';

describe('docs/profiles.md', () => {
  it('is what scripts/profiles-doc.ts generates (run it after changing a profile)', () => {
    const file = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'docs', 'profiles.md');
    assert.equal(fs.readFileSync(file, 'utf8'), profilesDoc());
  });

  it('lists every profile and every flag with its spec section', () => {
    const doc = profilesDoc();
    for (const p of PROFILES) assert.match(doc, new RegExp(`### \`${p.id}\``));
    for (const flag of Object.keys(PROFILES[0]?.features ?? {})) assert.match(doc, new RegExp(`\\| \`${flag}\` \\| [^|]*§`));
  });
});
