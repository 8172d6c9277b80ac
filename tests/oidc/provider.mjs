#!/usr/bin/env node
// A real OpenID Provider for the tests: the OpenID-Certified `oidc-provider` on loopback, with a
// development-only sign-in that needs no browser form, and test-only switches that make it hand
// out tokens a conforming provider never issues (wrong audience, bad signature).
//
//   node tests/oidc/provider.mjs --port 4711 --config council.json
//   node tests/oidc/provider.mjs --port 4711 \
//       --client council-app:s3cret:http://127.0.0.1:5000/sign-in/callback \
//       --user '{"sub": "u1", "email": "ann@council.example", "name": "Ann"}'
//
// Options (each overrides the same key of the --config file):
//   --port N             loopback port to listen on (required)
//   --config FILE        JSON settings, see below
//   --issuer URL         issuer identifier (default http://127.0.0.1:PORT)
//   --id-token-ttl S     ID token lifetime in seconds (default 3600)
//   --pkce optional      do not require PKCE (default: required for every client)
//   --client ID:SECRET:URI[,URI...]   a client (repeatable)
//   --user JSON          a user (repeatable)
//
// Settings file:
//   {
//     "issuer": "http://127.0.0.1:4711",
//     "id_token_ttl": 3600,
//     "pkce_required": true,
//     "signing_key": {"kty": "RSA", "kid": "...", "n": "...", "d": "...", ...},  // a private JWK
//                                       // (RS256); generated at start when absent
//     "claims_in_id_token": false,      // true: email, name, groups, roles in the ID token
//                                       // (as Entra ID does); false: from userinfo only
//     "clients": [{"client_id": "...", "client_secret": "...", "redirect_uris": ["..."],
//                  "id_token_ttl": 1,         // this client's ID token lifetime (optional)
//                  "token_delay_ms": 1500,    // answer the token request this late (optional)
//                  "tamper": "audience" | "foreign_key" | "altered_claims"}],  // optional
//     "users": [{"sub": "...", "email": "...", "email_verified": true, "name": "...",
//                "groups": [], "roles": [], "disabled": false, "amr": ["pwd"], "acr": "..."}]
//   }
//
// Signing in without a form: the authorization request's `login_hint` (a user's sub or email)
// chooses the account; consent to everything asked is given at once. An unknown or disabled
// user is answered with `error=access_denied` on the redirect URI, as a real provider would.
//
// The tamper switches rewrite the ID token of that client's token responses:
//   audience        re-signed with the provider's own key, "aud" another client's (and "azp"
//                   still this client's)
//   foreign_key     the same claims signed by a second key set that reuses the provider's "kid"
//   altered_claims  the email changed after signing, the provider's signature kept
//
// It prints one line "ready ISSUER" on stdout once listening, and exits when its standard input
// closes (so it never outlives the test process that started it) or on SIGTERM.

import { createPrivateKey, createSign, generateKeyPair, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs, promisify } from 'node:util';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    config: { type: 'string' },
    issuer: { type: 'string' },
    'id-token-ttl': { type: 'string' },
    pkce: { type: 'string' },
    client: { type: 'string', multiple: true },
    user: { type: 'string', multiple: true },
  },
});

function fail(message) {
  process.stderr.write(`provider.mjs: ${message}\n`);
  process.exit(2);
}

function settingsFromArguments() {
  const settings = args.config ? JSON.parse(readFileSync(args.config, 'utf8')) : {};
  if (!args.port) fail('--port is required');
  settings.port = Number(args.port);
  if (args.issuer) settings.issuer = args.issuer;
  if (args['id-token-ttl']) settings.id_token_ttl = Number(args['id-token-ttl']);
  if (args.pkce) settings.pkce_required = args.pkce !== 'optional';
  for (const client of args.client ?? []) {
    const [clientId, clientSecret, ...rest] = client.split(':');
    const uris = rest.join(':').split(',');
    (settings.clients ??= []).push({
      client_id: clientId, client_secret: clientSecret, redirect_uris: uris,
    });
  }
  for (const user of args.user ?? []) (settings.users ??= []).push(JSON.parse(user));
  settings.issuer ??= `http://127.0.0.1:${settings.port}`;
  settings.id_token_ttl ??= 3600;
  settings.pkce_required ??= true;
  settings.claims_in_id_token ??= false;
  if (!settings.clients?.length) fail('at least one client is needed');
  return settings;
}

const settings = settingsFromArguments();
const users = new Map((settings.users ?? []).map((user) => [user.sub, user]));
const testSwitches = new Map(settings.clients.map((client) => [client.client_id, client]));

function userByHint(hint) {
  if (!hint) return undefined;
  return users.get(hint) ?? [...users.values()].find((user) => user.email === hint);
}

function userClaims(user) {
  return {
    sub: user.sub,
    email: user.email,
    email_verified: user.email_verified ?? true,
    name: user.name,
    groups: user.groups ?? [],
    roles: user.roles ?? [],
  };
}

// --- signing keys: the provider's, and a second set that impersonates it -----------------------

// An RSA key takes a few hundred milliseconds of CPU to generate, so the provider's may come in
// the settings (the Python fixture makes one per provider and test run); otherwise it is made on
// libuv's threads while oidc-provider's modules load. The impostor's is made when a token asks.
async function rsaKey(kid) {
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

const signingKeyMade = settings.signing_key ?? rsaKey(randomBytes(8).toString('hex'));
const { default: Provider } = await import('oidc-provider');
const signingKey = await signingKeyMade;
let foreignKey;

function base64url(value) {
  return Buffer.from(value).toString('base64url');
}

function signJwt(header, payload, jwk) {
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  const signature = createSign('RSA-SHA256').update(input)
    .sign(createPrivateKey({ key: jwk, format: 'jwk' }));
  return `${input}.${signature.toString('base64url')}`;
}

async function tamper(idToken, how) {
  const [headerPart, payloadPart, signaturePart] = idToken.split('.');
  const header = JSON.parse(Buffer.from(headerPart, 'base64url'));
  const payload = JSON.parse(Buffer.from(payloadPart, 'base64url'));
  switch (how) {
    case 'audience':
      // azp still names the client: a client that checks azp alone would let this through
      return signJwt(header, { ...payload, aud: ['another-relying-party'], azp: payload.aud },
        signingKey);
    case 'foreign_key':
      foreignKey ??= await rsaKey(signingKey.kid);
      return signJwt(header, payload, foreignKey);
    case 'altered_claims':
      return `${headerPart}.${base64url(JSON.stringify({ ...payload, email: 'mallory@attacker.example' }))}.${signaturePart}`;
    default:
      throw new Error(`unknown tamper switch ${how}`);
  }
}

// --- the provider ----------------------------------------------------------------------------

const acrValues = [...new Set([...users.values()].map((user) => user.acr).filter(Boolean))];
const clientClaims = ['email', 'email_verified', 'name', 'groups', 'roles'];

const provider = new Provider(settings.issuer, {
  clients: settings.clients.map(({ client_id, client_secret, redirect_uris }) => ({
    client_id, client_secret, redirect_uris, grant_types: ['authorization_code'],
  })),
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: {
    // acr and amr come from the sign-in (the interaction's result), in every ID token
    openid: ['sub', 'acr', 'amr', 'auth_time'],
    email: ['email', 'email_verified'],
    profile: ['name', 'groups', 'roles'],
  },
  acrValues,
  conformIdTokenClaims: !settings.claims_in_id_token,
  features: { devInteractions: { enabled: false }, userinfo: { enabled: true } },
  pkce: { required: () => settings.pkce_required },
  ttl: {
    IdToken: (ctx, token, client) => testSwitches.get(client.clientId)?.id_token_ttl
      ?? settings.id_token_ttl,
    AccessToken: 600,
    Interaction: 600,
    Session: 600,
    Grant: 600,
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const user = users.get(sub);
    if (!user) return undefined;
    return { accountId: sub, claims: async () => userClaims(user) };
  },
  renderError(ctx, out) {
    ctx.type = 'json';
    ctx.body = out;
  },
});

// Development-only interaction: sign the user named by login_hint in, consent to everything.
async function interaction(ctx) {
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params, session, grantId } = details;
  if (prompt.name === 'login') {
    const user = userByHint(params.login_hint);
    const refusal = !user ? 'No account matches the login hint.'
      : user.disabled ? 'This account is disabled.' : undefined;
    const result = refusal
      ? { error: 'access_denied', error_description: refusal }
      : { login: { accountId: user.sub, amr: user.amr ?? ['pwd'], acr: user.acr } };
    ctx.respond = false;
    await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    return;
  }
  if (prompt.name === 'consent') {
    const grant = grantId ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    grant.addOIDCClaims(clientClaims);
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    const result = { consent: { grantId: await grant.save() } };
    ctx.respond = false;
    await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
    return;
  }
  ctx.throw(501, `prompt ${prompt.name} is not supported by the test provider`);
}

provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && /^\/interaction\/[^/]+$/.test(ctx.path)) {
    await interaction(ctx);
    return;
  }
  await next();
  const client = ctx.oidc?.client && testSwitches.get(ctx.oidc.client.clientId);
  if (ctx.path !== '/token' || ctx.status !== 200 || !client) return;
  if (client.token_delay_ms) await new Promise((done) => setTimeout(done, client.token_delay_ms));
  if (client.tamper && ctx.body?.id_token) {
    ctx.body = { ...ctx.body, id_token: await tamper(ctx.body.id_token, client.tamper) };
  }
});

const server = provider.listen(settings.port, '127.0.0.1', () => {
  process.stdout.write(`ready ${settings.issuer}\n`);
});

function stop() {
  server.close();
  server.closeAllConnections();
  process.exit(0);
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
