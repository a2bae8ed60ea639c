// A real, certified OpenID provider on loopback for toktok's "sign in with
// other providers": panva's oidc-provider (npm, pinned by package-lock.json),
// configured here and nothing else. Its own development interactions serve
// the login and consent pages (plain HTML forms a script can post: the login
// form takes any account id, the password is ignored). Used by
// tests/interop/providers.sh; can run alone:
//
//   node op.mjs --port 0 --redirect-uri http://127.0.0.1:8080/v1/auth/providers/op/callback \
//       [--redirect-uri …] [--client-secret S] [--auth-method client_secret_basic]
//
// Prints `LISTENING <port>` on stdout once it accepts connections; the issuer
// is http://127.0.0.1:<port>. The client secret comes from --client-secret,
// else OP_CLIENT_SECRET, else a fixed test value. Errors the provider meets
// (a refused token request, a failed PKCE check) are logged on stderr.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

function parseArgs(argv) {
  const out = { port: '0', redirectUris: [] };
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    switch (flag) {
      case '--port': out.port = value; break;
      case '--redirect-uri': out.redirectUris.push(value); break;
      case '--client-secret': out.clientSecret = value; break;
      case '--auth-method': out.authMethod = value; break;
      default: throw new Error(`unknown argument ${flag}`);
    }
    i += 1;
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
if (args.redirectUris.length === 0) {
  console.error('usage: node op.mjs --port N --redirect-uri URL [--redirect-uri URL] [--client-secret S] [--auth-method M]');
  process.exit(2);
}
const clientSecret = args.clientSecret ?? process.env.OP_CLIENT_SECRET ?? 'op-test-secret-of-some-length';
const authMethod = args.authMethod ?? 'client_secret_basic';

// The people this provider knows. `sub` is the login name typed on its page.
// mallory claims an address she has not proven: email_verified is false.
const USERS = {
  alice: { email: 'alice@example.com', email_verified: true, name: 'Alice' },
  mallory: { email: 'victim@example.com', email_verified: false, name: 'Mallory' },
  bob: { email: 'bob@example.com', email_verified: true, name: 'Bob' },
  carol: { email: 'carol@example.com', email_verified: true, name: 'Carol' },
  dave: { email: 'dave@example.com', email_verified: true, name: 'Dave' },
};

// A fresh RS256 signing key for this run (no development keys).
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `op-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'RS256' };

const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(args.port), '127.0.0.1', resolve);
});
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'toktok',
    client_secret: clientSecret,
    redirect_uris: args.redirectUris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: authMethod,
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  // Put the scope's claims in the ID token as well as at userinfo, as the
  // big providers do (false: they are in the ID token only for
  // response_type=id_token). OP_CONFORM_ID_TOKEN_CLAIMS=1 turns this back on.
  conformIdTokenClaims: process.env.OP_CONFORM_ID_TOKEN_CLAIMS === '1',
  // PKCE for every client, confidential ones too: toktok must send S256.
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
  },
  async findAccount(ctx, sub) {
    const user = USERS[sub];
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, ...user };
      },
    };
  },
});

for (const event of ['server_error', 'authorization.error', 'grant.error', 'userinfo.error', 'jwks.error', 'discovery.error']) {
  provider.on(event, (ctx, err) => {
    console.error(`op: ${event}: ${err?.name ?? ''} ${err?.message ?? err} ${err?.error_detail ?? ''}`.trim());
  });
}
provider.on('grant.success', (ctx) => {
  const client = ctx.oidc.client;
  console.error(`op: grant.success client=${client?.clientId} auth=${client?.clientAuthMethod} grant_type=${ctx.oidc.params?.grant_type}`);
});

server.on('request', provider.callback());
console.log(`LISTENING ${port}`);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
