// signRequest: the current time and a fresh nonce every time, every body kind as its bytes,
// and a clear error (never echoing the target or the secret) for what Gatekeeper would refuse.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { newNonce, signRequest } from '../src/index.js';
import { vectors } from '../test-support/vectors.js';

const CLIENT = '7c0e2a4e-5d1b-4c1e-9a53-3f1f0f6b1a11';
const SECRET = 'q9Vh3xk2Zf8Lr0mT5wYbN1cE7sJ4pA6dG2uH0iK3oQ';
const FIELDS = /timestamp="([0-9]+)",nonce="([^"]+)"/;
const fixed = { clientId: CLIENT, secret: SECRET, timestamp: 1, nonce: 'n' };

const sign = (extra) => signRequest({ method: 'GET', target: '/x', clientId: CLIENT, secret: SECRET, ...extra });
const fieldsOf = (headers) => FIELDS.exec(headers.Authorization).slice(1);

test('every signature gets a nonce of its own', async () => {
  const nonces = new Set();
  for (let i = 0; i < 1000; i++) nonces.add(fieldsOf(await sign())[1]);
  assert.equal(nonces.size, 1000);
  assert.ok([...nonces].every((nonce) => /^[0-9a-f]{32}$/.test(nonce)));
});

test('each signature reads the clock when it is made', async (t) => {
  const times = [1767225600900, 1767225900200];
  t.mock.method(Date, 'now', () => times.shift());
  const first = fieldsOf(await sign())[0];
  const second = fieldsOf(await sign())[0];
  assert.deepEqual([first, second], ['1767225600', '1767225900']);
});

test('a url is signed as fetch sends it: path and query, escaped the WHATWG way', async () => {
  const viaUrl = await signRequest({ method: 'get', url: 'https://api.example.com/caf\u00e9/a b?q=a b#frag', ...fixed });
  const viaTarget = await signRequest({ method: 'GET', target: '/caf%C3%A9/a%20b?q=a%20b', ...fixed });
  assert.deepEqual(viaUrl, viaTarget);
});

test('every body kind is signed as its bytes', async () => {
  const text = 'a=1&b=\u00e9 \u2713';
  const bytes = new TextEncoder().encode(text);
  const expected = await signRequest({ method: 'POST', target: '/x', body: bytes, ...fixed });
  const kinds = [text, bytes.buffer, new DataView(bytes.buffer), Buffer.from(bytes), new Blob([bytes]),
    new URLSearchParams([['a', '1'], ['b', '\u00e9 \u2713']])];
  for (const body of kinds.slice(0, 5)) {
    assert.deepEqual(await signRequest({ method: 'POST', target: '/x', body, ...fixed }), expected);
  }
  const form = await signRequest({ method: 'POST', target: '/x', body: kinds[5], ...fixed });
  const formBytes = await signRequest({ method: 'POST', target: '/x', body: kinds[5].toString(), ...fixed });
  assert.deepEqual(form, formBytes);
});

test('a FormData or stream body is refused with a pointer to gatekeeperFetch', async () => {
  await assert.rejects(sign({ method: 'POST', body: new FormData() }), /gatekeeperFetch/);
});

const BAD_TARGETS = ['/api/caf\u00e9', '/a b', '/x#frag', 'api/x', 'https://h/x', '', '/x\r\nX-Injected: 1'];

test('a target that cannot be sent as is is refused, without repeating it', async () => {
  for (const target of BAD_TARGETS) {
    await assert.rejects(sign({ target }), (error) => /exactly as sent/.test(error.message), target);
  }
  await assert.rejects(sign({ target: '/x?api_key=gk_a_secretpart x' }), (e) => !e.message.includes('secretpart'));
});

test('nonces, client ids and methods that would break the header are refused', async () => {
  for (const nonce of ['', 'a,b', 'a"b', 'a b', '\u00e9', 'x'.repeat(129)]) {
    await assert.rejects(sign({ nonce }), /nonce/);
  }
  for (const clientId of ['', 'a,b', 'a"b', 'a b']) {
    await assert.rejects(sign({ clientId }), /client id/);
  }
  await assert.rejects(sign({ method: 'GET /x' }), /method/);
  await assert.rejects(sign({ timestamp: -1 }), /timestamp/);
});

test('no error holds the secret', async () => {
  for (const extra of [{ nonce: 'a,b' }, { clientId: '' }, { target: 'x' }]) {
    await assert.rejects(sign(extra), (e) => !e.message.includes(SECRET));
  }
});

test('newNonce is 128 random bits', () => {
  assert.equal(new Set(Array.from({ length: 100 }, () => newNonce())).size, 100);
});

test('without a global Web Crypto (Node 18 by default) node:crypto is used', () => {
  // Node 18 has no globalThis.crypto unless run with --experimental-global-webcrypto.
  const script = `
    delete globalThis.crypto;
    if (globalThis.crypto !== undefined) throw new Error('the global is still there');
    const { signRequest } = await import(${JSON.stringify(new URL('../src/index.js', import.meta.url).href)});
    const v = ${JSON.stringify(vectors[1])};
    const headers = await signRequest({ method: v.method, target: v.target, clientId: v.client_id,
      secret: v.secret, timestamp: v.timestamp, nonce: v.nonce });
    process.stdout.write(headers.Authorization);
  `;
  const file = join(mkdtempSync(join(tmpdir(), 'gk-node18-')), 'sign.mjs');
  writeFileSync(file, script);
  const run = spawnSync(process.execPath, [file], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, vectors[1].authorization);
});
