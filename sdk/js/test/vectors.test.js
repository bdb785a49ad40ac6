// Every shared vector is signed exactly, by the ESM source and by the CommonJS build alike.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';

import * as esm from '../src/index.js';
import { bodyOf, vectors } from '../test-support/vectors.js';

const cjs = createRequire(import.meta.url)('../dist/index.cjs');

test('the vectors cover the cases that break signatures', () => {
  const names = new Set(vectors.map((v) => v.name));
  for (const name of ['get-query-with-reserved-characters', 'get-utf8-path-percent-encoded', 'post-empty-body', 'post-json-body', 'put-binary-body']) {
    assert.ok(names.has(name), name);
  }
});

for (const [build, lib] of [['esm', esm], ['cjs', cjs]]) {
  describe(`${build}: every vector`, () => {
    for (const vector of vectors) {
      test(vector.name, async () => {
        const body = bodyOf(vector);
        const expected = Buffer.from(vector.string_to_sign_b64, 'base64');
        const message = lib.stringToSign(vector.method, vector.target, vector.timestamp, vector.nonce, body);
        assert.deepEqual(Buffer.from(message), expected);

        const headers = await lib.signRequest({
          method: vector.method,
          target: vector.target,
          body,
          clientId: vector.client_id,
          secret: vector.secret,
          timestamp: vector.timestamp,
          nonce: vector.nonce,
        });
        assert.deepEqual(headers, { Authorization: vector.authorization });
      });
    }
  });
}

test('a secret given as bytes signs as its UTF-8 string does', async () => {
  for (const vector of vectors) {
    const headers = await esm.signRequest({
      method: vector.method,
      target: vector.target,
      body: bodyOf(vector),
      clientId: vector.client_id,
      secret: new TextEncoder().encode(vector.secret),
      timestamp: vector.timestamp,
      nonce: vector.nonce,
    });
    assert.equal(headers.Authorization, vector.authorization, vector.name);
  }
});
