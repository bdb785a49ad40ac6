// The shared vectors (sdk/testdata/vectors.json), made by Gatekeeper's own verifier.
import { readFileSync } from 'node:fs';

const path = new URL('../../testdata/vectors.json', import.meta.url);

export const vectors = JSON.parse(readFileSync(path, 'utf8')).vectors;

export function bodyOf(vector) {
  return new Uint8Array(Buffer.from(vector.body_b64, 'base64'));
}
