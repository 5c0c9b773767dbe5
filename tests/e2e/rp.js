// A small relying party for the browser suite, written from the specs with node's own http
// and crypto (no OIDC library): it signs people in through passgate with the authorization
// code flow and PKCE (S256), checks the ID token itself (the signature against the JWKS,
// iss, aud, exp, nonce), reads userinfo, and shows who signed in. Sign-out goes through
// passgate's end-session endpoint with the ID token as hint.
'use strict';

const http = require('node:http');
const crypto = require('node:crypto');

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const fromB64url = (text) => Buffer.from(text, 'base64url');

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function pageHtml(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"></head>` +
    `<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

/** The back channel reaches passgate on 127.0.0.1 whatever host name its issuer has. */
function backChannel(url) {
  const u = new URL(url);
  if (u.hostname === 'localhost') u.hostname = '127.0.0.1';
  return u.toString();
}

async function getJson(url, init) {
  const response = await fetch(backChannel(url), init);
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${url} answered ${response.status} with no JSON: ${text.slice(0, 200)}`);
  }
  return { status: response.status, json };
}

/** Verifies a compact JWS against a JWK set; returns its payload. */
function verifyJws(token, jwks) {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('the ID token is not a compact JWS');
  const header = JSON.parse(fromB64url(parts[0]));
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error(`no key ${header.kid} in the JWKS`);
  if (jwk.alg && jwk.alg !== header.alg) throw new Error('the header names another algorithm than its key');
  const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
  const data = Buffer.from(`${parts[0]}.${parts[1]}`);
  const signature = fromB64url(parts[2]);
  let ok;
  if (header.alg === 'RS256') ok = crypto.verify('sha256', data, key, signature);
  else if (header.alg === 'ES256') ok = crypto.verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
  else throw new Error(`unexpected alg ${header.alg}`);
  if (!ok) throw new Error('the ID token signature does not verify');
  return { header, claims: JSON.parse(fromB64url(parts[1])) };
}

function cookies(req) {
  const out = {};
  for (const part of (req.headers.cookie || '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k) out[k] = decodeURIComponent(v.join('='));
  }
  return out;
}

/**
 * Starts the app on 127.0.0.1 (a free port unless `port` is given). `register(redirectUri,
 * postLogoutUri)` is called once the port is known and returns `{ clientId, clientSecret }`.
 * Resolves to `{ url, close, name }`.
 */
async function startRp({ issuer, name, register, port = 0 }) {
  const pending = new Map(); // state -> { nonce, verifier }
  const sessions = new Map(); // session id -> { claims, userinfo, idToken }
  let meta;
  let jwks;
  let client;
  let base;

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, base);
    const send = (status, title, body, headers = {}) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers });
      res.end(pageHtml(title, body));
    };
    try {
      if (url.pathname === '/') {
        const session = sessions.get(cookies(req).rp_session);
        if (session) {
          const c = session.claims;
          send(200, `${name}: signed in`,
            `<p id="who">Signed in as <strong>${escapeHtml(session.userinfo.preferred_username)}</strong></p>` +
            `<dl><dt>sub</dt><dd id="sub">${escapeHtml(c.sub)}</dd>` +
            `<dt>amr</dt><dd id="amr">${escapeHtml((c.amr || []).join(' '))}</dd>` +
            `<dt>email</dt><dd id="email">${escapeHtml(session.userinfo.email || '')}</dd>` +
            `<dt>groups</dt><dd id="groups">${escapeHtml((session.userinfo.groups || []).join(', '))}</dd></dl>` +
            `<p><a id="sign-out" href="/logout">Sign out</a></p>`);
        } else {
          send(200, name, '<p id="who">Not signed in.</p><p><a id="sign-in" href="/login">Sign in with passgate</a></p>');
        }
        return;
      }
      if (url.pathname === '/login') {
        const state = b64url(crypto.randomBytes(16));
        const nonce = b64url(crypto.randomBytes(16));
        const verifier = b64url(crypto.randomBytes(32));
        const challenge = b64url(crypto.createHash('sha256').update(verifier).digest());
        pending.set(state, { nonce, verifier });
        const target = new URL(meta.authorization_endpoint);
        const params = {
          response_type: 'code',
          client_id: client.clientId,
          redirect_uri: `${base}/callback`,
          scope: 'openid profile email groups',
          state,
          nonce,
          code_challenge: challenge,
          code_challenge_method: 'S256',
        };
        for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
        if (url.searchParams.get('prompt')) target.searchParams.set('prompt', url.searchParams.get('prompt'));
        res.writeHead(302, { location: target.toString(), 'set-cookie': `rp_state=${state}; HttpOnly; Path=/; SameSite=Lax` });
        res.end();
        return;
      }
      if (url.pathname === '/callback') {
        const state = url.searchParams.get('state');
        const expected = pending.get(state);
        if (!state || state !== cookies(req).rp_state || !expected) {
          send(400, `${name}: refused`, '<p id="error">The state does not match this browser.</p>');
          return;
        }
        pending.delete(state);
        if (url.searchParams.get('iss') !== meta.issuer) {
          send(400, `${name}: refused`, '<p id="error">The answer names another issuer.</p>');
          return;
        }
        const error = url.searchParams.get('error');
        if (error) {
          send(403, `${name}: sign-in failed`, `<p id="error">${escapeHtml(error)}</p>`);
          return;
        }
        const token = await getJson(meta.token_endpoint, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`,
          },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code: url.searchParams.get('code') || '',
            redirect_uri: `${base}/callback`,
            code_verifier: expected.verifier,
          }),
        });
        if (token.status !== 200) throw new Error(`the token endpoint answered ${token.status}: ${JSON.stringify(token.json)}`);
        const { claims } = verifyJws(token.json.id_token, jwks);
        const now = Math.floor(Date.now() / 1000);
        if (claims.iss !== meta.issuer) throw new Error('iss');
        if (claims.aud !== client.clientId && !(Array.isArray(claims.aud) && claims.aud.includes(client.clientId))) throw new Error('aud');
        if (!(claims.exp > now)) throw new Error('exp');
        if (claims.nonce !== expected.nonce) throw new Error('nonce');
        const info = await getJson(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${token.json.access_token}` } });
        if (info.status !== 200 || info.json.sub !== claims.sub) throw new Error(`userinfo: ${info.status}`);
        const id = b64url(crypto.randomBytes(16));
        sessions.set(id, { claims, userinfo: info.json, idToken: token.json.id_token });
        res.writeHead(303, { location: '/', 'set-cookie': `rp_session=${id}; HttpOnly; Path=/; SameSite=Lax` });
        res.end();
        return;
      }
      if (url.pathname === '/logout') {
        const id = cookies(req).rp_session;
        const session = sessions.get(id);
        sessions.delete(id);
        const target = new URL(meta.end_session_endpoint);
        if (session) target.searchParams.set('id_token_hint', session.idToken);
        target.searchParams.set('client_id', client.clientId);
        target.searchParams.set('post_logout_redirect_uri', `${base}/signed-out`);
        target.searchParams.set('state', 'bye');
        res.writeHead(302, { location: target.toString(), 'set-cookie': 'rp_session=; Path=/; Max-Age=0' });
        res.end();
        return;
      }
      if (url.pathname === '/signed-out') {
        send(200, `${name}: signed out`, `<p id="who">Signed out (state ${escapeHtml(url.searchParams.get('state') || '')}).</p>`);
        return;
      }
      send(404, 'Not found', '<p>Not found.</p>');
    } catch (err) {
      send(500, `${name}: error`, `<p id="error">${escapeHtml(err.message)}</p>`);
    }
  });

  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
  meta = (await getJson(`${issuer}/.well-known/openid-configuration`)).json;
  if (meta.issuer !== issuer) throw new Error(`discovery names issuer ${meta.issuer}, not ${issuer}`);
  jwks = (await getJson(meta.jwks_uri)).json;
  client = await register(`${base}/callback`, `${base}/signed-out`);
  return {
    url: base,
    name,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

module.exports = { startRp, verifyJws };
