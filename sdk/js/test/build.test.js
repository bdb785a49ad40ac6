// dist/ (CommonJS and its types) is exactly what scripts/build-cjs.js makes from src/.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { build } from '../scripts/build-cjs.js';

test('the CommonJS build is up to date with the source', () => {
  for (const [path, text] of Object.entries(build())) {
    const current = readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
    assert.equal(current, text, `${path} is stale: run npm run build`);
  }
});
