// End-to-end calls through nginx and Gatekeeper, run by Gatekeeper's suite
// (authz/tests/e2e/test_client_libraries.py). Reads GK_BASE_URL, GK_API_KEY, GK_CLIENT_ID and
// GK_SECRET; prints one JSON line per step: {"step", "status", "body"}. Never prints a credential.
import { gatekeeperFetch, signRequest } from '../src/index.js';

const { GK_BASE_URL: base, GK_API_KEY: apiKey, GK_CLIENT_ID: clientId, GK_SECRET: secret } = process.env;
const credentials = { clientId, secret };
const signed = gatekeeperFetch(credentials);
const keyed = gatekeeperFetch({ apiKey });
const ORDER = JSON.stringify({ order: 7, items: [{ sku: 'A-1', qty: 2 }], note: '\u00fcn\u00efcode' });

async function report(step, response) {
  console.log(JSON.stringify({ step, status: response.status, body: await response.text() }));
}

// A request signed by hand, to send as it is (or changed) with plain fetch.
async function byHand(path, body) {
  const headers = await signRequest({ method: 'POST', url: base + path, body, ...credentials });
  return { ...headers, 'Content-Type': 'application/json' };
}

await report('key-get', await keyed(`${base}/api/data/items?colour=blue&size=m%2Fl`));
await report('hmac-get-query', await signed(`${base}/api/reports/d%C3%A9tail?from=2026-01-01&q=caf%C3%A9%20au%20lait&path=/x/y&list=a,b;c`));
await report('hmac-post-json', await signed(`${base}/signed/data/orders?batch=1`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: ORDER,
}));

const tampered = await byHand('/signed/data/orders', '{"order": 7, "amount": 100}');
await report('tampered-body', await fetch(`${base}/signed/data/orders`, {
  method: 'POST',
  headers: tampered,
  body: '{"order": 7, "amount": 900}',
}));

const once = await byHand('/signed/data/orders', '{"order": 8}');
for (const step of ['replay-first', 'replay-again']) {
  await report(step, await fetch(`${base}/signed/data/orders`, { method: 'POST', headers: once, body: '{"order": 8}' }));
}
