/**
 * gatekeeper-client: sign requests to a Gatekeeper-protected API (API keys, HMAC).
 *
 * signature = hex(HMAC-SHA256(secret, METHOD \n target \n timestamp \n nonce \n body)), where
 * `target` is the request target exactly as it goes on the wire (path plus `?query`,
 * percent-encoded as sent) and `body` the body bytes. Uses Web Crypto (`crypto.subtle`), so it
 * runs in browsers, Deno, Bun and Node 18+, with no dependencies.
 *
 * This file is the source; dist/index.cjs is made from it by scripts/build-cjs.js.
 */

/** Gatekeeper accepts a timestamp this many seconds either side of its own clock. */
export const MAX_SKEW_SECONDS = 300;

const NONCE_BYTES = 16;
// Origin-form, printable ASCII, no space or '#': Gatekeeper refuses any other target.
const TARGET = /^\/[\x21\x22\x24-\x7e]*$/;
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Header values sit between quotes in a comma-separated list: neither may appear in them.
const NONCE = /^[\x21\x23-\x2b\x2d-\x7e]{1,128}$/;
const CLIENT_ID = /^[\x21\x23-\x2b\x2d-\x7e]+$/;
const WHITESPACE = /\s/;
const NO_BODY_METHODS = new Set(['GET', 'HEAD']);
const encoder = new TextEncoder();

/**
 * The Authorization header for one request, signed with the current time and a fresh nonce.
 * Give `url` (a URL as fetch sends it; a path is resolved as fetch would) or `target` (the
 * path and query exactly as your HTTP client writes them).
 */
export async function signRequest(options) {
  const { clientId, secret, body } = options;
  const method = String(options.method || 'GET').toUpperCase();
  const target = options.target !== undefined ? options.target : targetOf(options.url);
  checkTarget(target);
  if (!METHOD.test(method)) throw new TypeError('the method is not an HTTP method token');
  if (typeof clientId !== 'string' || !CLIENT_ID.test(clientId)) {
    throw new TypeError('the client id must be printable ASCII without spaces, quotes or commas');
  }
  const timestamp = options.timestamp !== undefined ? options.timestamp : Math.floor(Date.now() / 1000);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new TypeError('the timestamp must be Unix seconds');
  }
  const webCrypto = await resolveCrypto(options.crypto);
  const nonce = options.nonce !== undefined ? options.nonce : newNonce(webCrypto);
  if (typeof nonce !== 'string' || !NONCE.test(nonce)) {
    throw new TypeError('a nonce is 1-128 printable ASCII characters without spaces, quotes or commas');
  }
  const message = stringToSign(method, target, timestamp, nonce, await bodyBytes(body));
  const hex = await hmacHex(webCrypto, secret, message);
  return {
    Authorization: `HMAC client_id="${clientId}",timestamp="${timestamp}",nonce="${nonce}",signature="${hex}"`,
  };
}

/** The exact bytes a signature covers. */
export function stringToSign(method, target, timestamp, nonce, body) {
  const head = encoder.encode(`${method.toUpperCase()}\n${target}\n${timestamp}\n${nonce}\n`);
  const message = new Uint8Array(head.length + body.length);
  message.set(head, 0);
  message.set(body, head.length);
  return message;
}

/** 128 random bits in hex: never the same twice. */
export function newNonce(webCrypto = globalThis.crypto) {
  const bytes = webCrypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * A fetch that authenticates every call: `{apiKey}` sends `Authorization: Bearer <key>`;
 * `{clientId, secret}` signs the exact bytes fetch will send, anew on every call (so a retry,
 * which is a new call, gets a new timestamp and nonce).
 */
export function gatekeeperFetch(credentials, options = {}) {
  const fetchImpl = options.fetch || globalThis.fetch;
  if (credentials.apiKey !== undefined) {
    const key = credentials.apiKey;
    if (typeof key !== 'string' || !key || WHITESPACE.test(key)) {
      throw new TypeError('an API key is one non-empty token without spaces');
    }
    return (input, init) => {
      const request = new Request(input, init);
      const headers = new Headers(request.headers);
      headers.set('Authorization', `Bearer ${key}`);
      return fetchImpl(new Request(request, { headers }));
    };
  }
  return async (input, init) => {
    const request = new Request(input, init);
    // fetch upper-cases only the standard methods; Gatekeeper's methods are upper-case.
    const method = request.method.toUpperCase();
    const carriesBody = !NO_BODY_METHODS.has(method);
    // The body as fetch encodes it (strings as UTF-8, forms with their boundary).
    const body = carriesBody ? new Uint8Array(await request.arrayBuffer()) : new Uint8Array(0);
    const signed = await signRequest({
      method,
      url: request.url,
      body,
      clientId: credentials.clientId,
      secret: credentials.secret,
      crypto: options.crypto,
    });
    const headers = new Headers(request.headers);
    headers.set('Authorization', signed.Authorization);
    return fetchImpl(new Request(request, carriesBody ? { method, headers, body } : { method, headers }));
  };
}

function targetOf(url) {
  if (url === undefined) throw new TypeError('give the url (or the exact target) to sign');
  // Parsed as fetch parses it: what it sends is pathname + search.
  const parsed = url instanceof URL ? url : new URL(String(url), 'http://localhost');
  return parsed.pathname + parsed.search;
}

function checkTarget(target) {
  if (typeof target !== 'string' || !TARGET.test(target)) {
    // The target itself is not repeated: its query may hold a credential.
    throw new TypeError(
      "the target must be the path and query exactly as sent, e.g. /v1/orders?id=7: starting with '/', " +
        "percent-encoded, with no space, '#' or non-ASCII character",
    );
  }
}

async function bodyBytes(body) {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (typeof body === 'string') return encoder.encode(body);
  if (body instanceof URLSearchParams) return encoder.encode(body.toString());
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (typeof Blob !== 'undefined' && body instanceof Blob) return new Uint8Array(await body.arrayBuffer());
  throw new TypeError(
    'sign a string, bytes, Blob or URLSearchParams body; for FormData or streams use gatekeeperFetch, ' +
      'which signs the bytes fetch encodes',
  );
}

async function hmacHex(webCrypto, secret, message) {
  const raw = typeof secret === 'string' ? encoder.encode(secret) : await bodyBytes(secret);
  const key = await webCrypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await webCrypto.subtle.sign('HMAC', key, message));
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function resolveCrypto(given) {
  if (given) return given;
  if (globalThis.crypto && globalThis.crypto.subtle) return globalThis.crypto;
  // Node 18 keeps Web Crypto off the global scope unless run with --experimental-global-webcrypto.
  const nodeCrypto = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:crypto');
  return nodeCrypto.webcrypto;
}
