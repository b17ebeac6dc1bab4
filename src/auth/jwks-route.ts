/**
 * `GET /.well-known/jwks.json`: the public halves of the keys that sign Kiln's access tokens, so
 * another service can verify them without asking Kiln (RFC 8414 / OpenID discovery place it there,
 * outside the API prefix). With HS256 the set is empty: a shared secret is never published. Caches
 * may keep it five minutes, which is why a new key is added to the set before it signs anything
 * (`kiln auth keygen --add-to` puts it first; deploy, and it signs at once, while the old one still verifies).
 */
import type { JsonSchema } from '../core/schemas.js';
import type { AccessTokens } from './jwt.js';
import type { AuthModule } from './runtime.js';

export const JWKS_PATH = '/.well-known/jwks.json';
const CACHE_CONTROL = 'public, max-age=300';

const PUBLIC_KEY: JsonSchema = {
  type: 'object',
  description: 'A public JSON Web Key (RFC 7517): an RSA (`n`, `e`), EC (`crv`, `x`, `y`) or OKP (`crv`, `x`) key; never a private member.',
  properties: {
    kty: { type: 'string', enum: ['RSA', 'EC', 'OKP'] },
    kid: { type: 'string', maxLength: 200 },
    alg: { type: 'string', enum: ['RS256', 'ES256', 'EdDSA'] },
    use: { type: 'string', const: 'sig' },
    n: { type: 'string', maxLength: 2000 },
    e: { type: 'string', maxLength: 20 },
    crv: { type: 'string', maxLength: 20 },
    x: { type: 'string', maxLength: 200 },
    y: { type: 'string', maxLength: 200 },
  },
  required: ['kty', 'kid', 'alg', 'use'],
};

const PATH_ITEM: JsonSchema = {
  get: {
    operationId: 'getJwks',
    tags: ['auth'],
    summary: 'Public keys of the access tokens',
    description:
      'The JSON Web Key Set that verifies the access tokens this API issues, chosen by the `kid` of a token. Empty when tokens are signed with a shared secret (HS256). Cacheable for 5 minutes.',
    responses: {
      200: {
        description: 'The public keys.',
        headers: { 'Cache-Control': { schema: { type: 'string', const: CACHE_CONTROL } } },
        content: {
          'application/json': {
            schema: { type: 'object', properties: { keys: { type: 'array', items: PUBLIC_KEY, maxItems: 100 } }, required: ['keys'] },
            example: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: '2026-01', alg: 'EdDSA', use: 'sig' }] },
          },
        },
      },
    },
  },
};

/** The module serving the key set of `tokens`. */
export function jwksModule(tokens: AccessTokens): AuthModule {
  // The set is fixed for the life of the process: serialise it once.
  const body = JSON.stringify(tokens.jwks());
  return {
    register(app) {
      app.get(JWKS_PATH, (_request, reply) => {
        reply.header('cache-control', CACHE_CONTROL).type('application/json; charset=utf-8').send(body);
      });
    },
    paths: { [JWKS_PATH]: PATH_ITEM },
  };
}
