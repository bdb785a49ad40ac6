// A loopback HTTP server that records each request as it arrived: the raw target from the
// request line (node does not rewrite req.url), the headers and the body bytes.
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';

const AUTHORIZATION =
  /^HMAC client_id="([^"]+)",timestamp="([0-9]+)",nonce="([^"]+)",signature="([0-9a-f]{64})"$/;

export async function serve() {
  const arrived = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      arrived.push({ method: req.method, target: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    take: () => arrived.splice(0),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

export function fields(request) {
  const match = AUTHORIZATION.exec(request.headers.authorization || '');
  if (!match) throw new Error(`not an HMAC header: ${request.headers.authorization}`);
  const [, clientId, timestamp, nonce, signature] = match;
  return { clientId, timestamp, nonce, signature };
}

/** Gatekeeper's check, written with node:crypto: the signature covers what arrived. */
export function verifies(request, secret) {
  const { timestamp, nonce, signature } = fields(request);
  const head = `${request.method}\n${request.target}\n${timestamp}\n${nonce}\n`;
  const expected = createHmac('sha256', secret).update(head).update(request.body).digest('hex');
  return expected === signature;
}
