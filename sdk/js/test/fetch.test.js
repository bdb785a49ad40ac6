// gatekeeperFetch against a server that records what arrived: the signature covers the target
// and body bytes that fetch really sent, every call is signed anew, keys go in as Bearer tokens.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { gatekeeperFetch } from '../src/index.js';
import { fields, serve, verifies } from '../test-support/wire.js';

const CLIENT = '7c0e2a4e-5d1b-4c1e-9a53-3f1f0f6b1a11';
const SECRET = 'q9Vh3xk2Zf8Lr0mT5wYbN1cE7sJ4pA6dG2uH0iK3oQ';
const KEY = `gk_abcd1234_${'k'.repeat(32)}`;
const signedFetch = gatekeeperFetch({ clientId: CLIENT, secret: SECRET });

// Raw UTF-8, spaces, quotes, lower-case escapes, brackets, a stray '%', an empty query.
const TARGETS = [
  '/v1/orders',
  '/v1/caf\u00e9/\u20ac?name=J\u00fcrgen',
  '/v1/na%c3%afve?q=%e2%9c%93',
  "/v1/a b?q=a b&r=1+1&quote='\"<>",
  '/v1/list[0]?filter[name]=x',
  '/v1/100%?discount=5%',
  '/v1/orders?',
  '/v1/orders?next=https://example.com/x?y=1&list=a,b;c&at=me@example.com',
  '/v1/x#fragment',
];

let wire;
before(async () => {
  wire = await serve();
});
after(() => wire.close());

test('the signed target is the one on the wire', async () => {
  for (const target of TARGETS) {
    const response = await signedFetch(wire.base + target);
    assert.equal(response.status, 200);
    const [arrived] = wire.take();
    assert.ok(verifies(arrived, SECRET), `${target} arrived as ${arrived.target}`);
  }
});

function stream() {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('streamed '));
      controller.enqueue(new TextEncoder().encode('\u00e9'));
      controller.close();
    },
  });
}

function form() {
  const data = new FormData();
  data.append('note', '\u00fcn\u00efcode');
  data.append('upload', new Blob([new Uint8Array([0, 255, 1])]), 'x.bin');
  return data;
}

const BODIES = {
  string: () => ({ body: JSON.stringify({ order: 7, note: '\u00fcn\u00efcode \u2713' }), headers: { 'Content-Type': 'application/json' } }),
  bytes: () => ({ body: new Uint8Array(Array.from({ length: 256 }, (_, i) => i)) }),
  form: () => ({ body: new URLSearchParams({ a: '1 2', b: '\u00e9&=' }) }),
  multipart: () => ({ body: form() }),
  blob: () => ({ body: new Blob(['blob \u00e9']) }),
  stream: () => ({ body: stream(), duplex: 'half' }),
  empty: () => ({ body: '' }),
};

test('the signed body is the one on the wire, whatever kind fetch was given', async () => {
  for (const [kind, init] of Object.entries(BODIES)) {
    const response = await signedFetch(`${wire.base}/v1/orders?x=1`, { method: 'POST', ...init() });
    assert.equal(response.status, 200, kind);
    const [arrived] = wire.take();
    assert.ok(verifies(arrived, SECRET), kind);
    if (kind === 'multipart') assert.match(arrived.headers['content-type'], /^multipart\/form-data; boundary=/);
  }
});

test('a Request object is signed as it is sent, its headers kept', async () => {
  const request = new Request(`${wire.base}/v1/orders`, { method: 'PUT', body: 'x', headers: { 'X-Trace': '1' } });
  await signedFetch(request);
  const [arrived] = wire.take();
  assert.ok(verifies(arrived, SECRET));
  assert.equal(arrived.headers['x-trace'], '1');
});

test('a lower-case method is sent and signed upper-case', async () => {
  await signedFetch(`${wire.base}/v1/orders/7`, { method: 'patch', body: '{}' });
  const [arrived] = wire.take();
  assert.equal(arrived.method, 'PATCH');
  assert.ok(verifies(arrived, SECRET));
});

test('every call, a retry included, gets its own timestamp and nonce', async () => {
  for (let attempt = 0; attempt < 3; attempt++) {
    await signedFetch(`${wire.base}/v1/orders`, { method: 'POST', body: 'same body' });
  }
  const arrived = wire.take();
  assert.equal(new Set(arrived.map((request) => fields(request).nonce)).size, 3);
  assert.ok(arrived.every((request) => verifies(request, SECRET)));
});

test('an API key goes in the Authorization header as a Bearer token', async () => {
  const keyFetch = gatekeeperFetch({ apiKey: KEY });
  await keyFetch(`${wire.base}/v1/orders?x=1`, { method: 'POST', body: 'kept', headers: { Authorization: 'Basic old' } });
  const [arrived] = wire.take();
  assert.equal(arrived.headers.authorization, `Bearer ${KEY}`);
  assert.equal(arrived.body.toString(), 'kept');
});

test('an API key that cannot be sent is refused up front', () => {
  for (const apiKey of ['', 'two words']) {
    assert.throws(() => gatekeeperFetch({ apiKey }), /API key/);
  }
});

test('the fetch to wrap can be given', async () => {
  const seen = [];
  const wrapped = gatekeeperFetch({ clientId: CLIENT, secret: SECRET }, {
    fetch: async (request) => {
      seen.push(request);
      return new Response('stub');
    },
  });
  await wrapped('https://api.example.com/v1/x?y=1');
  assert.equal(seen.length, 1);
  assert.match(seen[0].headers.get('authorization'), /^HMAC client_id="7c0e2a4e-/);
});
