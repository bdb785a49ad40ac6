// Makes dist/index.cjs and dist/index.d.cts from src/: the CommonJS build of the one source.
// `node scripts/build-cjs.js --check` exits 1 when dist/ is not what src/ makes (test/build.test.js).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const HEADER = '// Generated from src/ by scripts/build-cjs.js: edit src/ and run `npm run build`.\n';
const EXPORTED = /^export (?:async function|function|const) ([A-Za-z_$][\w$]*)/gm;

export function build() {
  const source = readFileSync(`${root}src/index.js`, 'utf8');
  if (/^import /m.test(source)) throw new Error('src/index.js must not use static imports');
  const names = [...source.matchAll(EXPORTED)].map((match) => match[1]);
  const body = source.replace(/^export /gm, '');
  const cjs = `${HEADER}'use strict';\n\n${body}\nmodule.exports = { ${names.join(', ')} };\n`;
  const types = HEADER + readFileSync(`${root}src/index.d.ts`, 'utf8');
  return { 'dist/index.cjs': cjs, 'dist/index.d.cts': types };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = false;
  for (const [path, text] of Object.entries(build())) {
    if (check) {
      let current = '';
      try {
        current = readFileSync(`${root}${path}`, 'utf8');
      } catch {
        // missing counts as stale
      }
      if (current !== text) {
        console.error(`${path} is out of date: run npm run build`);
        stale = true;
      }
    } else {
      writeFileSync(`${root}${path}`, text);
      console.log(`wrote ${path}`);
    }
  }
  process.exitCode = stale ? 1 : 0;
}
