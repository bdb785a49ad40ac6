/*
 * Gatekeeper for body-signed locations (njs 0.7; see gatekeeper.conf, `location /signed/`).
 *
 * nginx's auth_request runs before the body is read and cannot send it (proxy-facts §1.4), so
 * an HMAC signature over the body could never be checked there. `check` is the location's
 * content handler instead: nginx has read the body by then. It asks Gatekeeper with the body
 * (through the internal /_gatekeeper_body location, which adds the X-Original-* headers), and
 * on allow hands the request, body intact, to @gk_signed_backend with the identity Gatekeeper
 * returned. Denies get the same answers as the auth_request locations.
 */

const crypto = require('crypto');

// njs variable (declared with js_var in gatekeeper.conf) <- Gatekeeper's answer header.
const IDENTITY = {
    gk_client_id: 'X-Auth-Client-ID',
    gk_client_name: 'X-Auth-Client-Name',
    gk_route_id: 'X-Auth-Route-ID',
};

function readBody(r) {
    try {
        // undefined when the request has no body; njs refuses an empty Buffer as a body
        const body = r.requestBuffer;
        return body && body.length ? body : '';
    } catch (e) {
        // "request body is in a file": client_body_buffer_size is below the body. Ask without
        // it; Gatekeeper sees X-Original-Content-Length and denies a body-signed request
        // (body_unavailable) rather than check its signature over nothing.
        r.warn('gatekeeper: request body not in memory, asking without it: ' + e.message);
        return '';
    }
}

function reply(r, status, error) {
    r.headersOut['Content-Type'] = 'application/json';
    r.return(status, JSON.stringify({error: error}) + '\n');
}

function deny(r, answer, reason) {
    // Gatekeeper's reasons are [a-z_]+; nothing else is written into the body.
    const error = /^[a-z_]+$/.test(reason) ? reason : 'forbidden';
    if (answer.status == 401) {
        r.headersOut['WWW-Authenticate'] = answer.headersOut['WWW-Authenticate'];
        reply(r, 401, error);
    } else if (answer.status == 403 && reason == 'rate_limit_exceeded') {
        r.headersOut['Retry-After'] = answer.headersOut['Retry-After'];
        reply(r, 429, reason);
    } else if (answer.status == 403) {
        reply(r, 403, error);
    } else {
        // Refused (502), timed out (504) or failed (500): deny, as auth_request does.
        reply(r, 503, 'gatekeeper_unavailable');
    }
}

async function check(r) {
    const answer = await r.subrequest('/_gatekeeper_body', {method: 'POST', body: readBody(r)});
    const reason = answer.headersOut['X-Auth-Reason'] || '';
    r.variables.gk_status = String(answer.status);
    r.variables.gk_reason = reason;
    // Any 2xx allows, as with auth_request.
    if (answer.status < 200 || answer.status > 299) {
        deny(r, answer, reason);
        return;
    }
    for (const name in IDENTITY) {
        r.variables[name] = answer.headersOut[IDENTITY[name]] || '';
    }
    r.internalRedirect('@gk_signed_backend');
}

/*
 * The decision cache's key (gatekeeper.conf, `proxy_cache_key`): HMAC-SHA-256, keyed with
 * $gk_cache_salt, over everything Gatekeeper decides a cacheable answer from: the method, the
 * host, the raw target (query included) and every Authorization and X-API-Key header as sent.
 * A digest, so that no key is ever written into a cache key or a cache file.
 */
function cacheKey(r) {
    const mac = crypto.createHmac('sha256', r.variables.gk_cache_salt);
    mac.update(r.variables.request_method + '\n' + r.variables.host + '\n' +
               r.variables.request_uri);
    r.rawHeadersIn.forEach(function (pair) {
        const name = pair[0].toLowerCase();
        if (name === 'authorization' || name === 'x-api-key') {
            mac.update('\n' + name + ': ' + pair[1]);
        }
    });
    return mac.digest('hex');
}

export default {check, cacheKey};
