/**
 * `kiln api-keys create | list | revoke`: API keys of the accounts on the configured database. The
 * key is printed once, alone on standard output (`KEY=$(kiln api-keys create …)`), and never again:
 * Kiln keeps only its hash. A key carries only roles its account holds, as one created through the API.
 */
import type { Account } from '../auth/account-store.js';
import type { ApiKeyInfo } from '../auth/api-keys.js';
import {
  type AuthCli,
  CommandError,
  type CommandGroup,
  type Parsed,
  required,
  roleNames,
  rolesShown,
  runGroup,
  table,
  UsageError,
  withAuthCli,
} from './auth-cli.js';

type ApiKeysCommand = 'create' | 'list' | 'revoke';

export const API_KEYS: CommandGroup<ApiKeysCommand> = {
  name: 'api-keys',
  summary: 'Create, list and revoke the API keys of accounts on the configured database',
  commands: {
    create: {
      summary: 'Create an API key for an account; the key is printed once, on standard output',
      args: '',
      options: `  --account LOGIN         the account the key acts as
  --name NAME             what the key is for
  --role ROLE             a role the key carries, one the account holds (repeatable; default all of its roles)
  --expires-in-days D     days until the key stops working (1 to 3650; default never)`,
      flags: { account: { type: 'string' }, name: { type: 'string' }, role: { type: 'string', multiple: true }, 'expires-in-days': { type: 'string' } },
      positionals: { min: 0, max: 0 },
    },
    list: {
      summary: 'List API keys (of every account, or of one), revoked ones included, without their secrets',
      args: '',
      options: '  --account LOGIN         only the keys of this account',
      flags: { account: { type: 'string' } },
      positionals: { min: 0, max: 0 },
    },
    revoke: { summary: 'Revoke an API key: it stops working at once', args: '<id>', options: '', flags: {}, positionals: { min: 1, max: 1 } },
  },
};

const DAY_MS = 86_400_000;
const MAX_DAYS = 3650;

export function runApiKeys(argv: readonly string[]): Promise<number> {
  return runGroup(API_KEYS, argv, async (name, parsed, model) => {
    const say = (line: string) => console.error(`kiln api-keys ${name}: ${line}`);
    switch (name) {
      case 'create': {
        const login = required(parsed, 'account');
        const keyName = required(parsed, 'name').trim();
        const days = expiresInDays(parsed);
        const wanted = roleNames((parsed.values.role as string[] | undefined) ?? []);
        return withAuthCli(parsed, model, async (cli) => {
          const account = await cli.account(login);
          if (account.disabled) throw new CommandError(`${account.login} is disabled: enable it first ("kiln accounts enable ${account.login}")`);
          const notHeld = wanted.filter((role) => !account.roles.includes(role));
          if (notHeld.length > 0) {
            throw new CommandError(
              `${account.login} does not hold ${notHeld.join(', ')}; a key carries only roles its account holds (grant them with "kiln accounts set-roles")`,
            );
          }
          const created = await cli.apiKeys.create({
            accountId: account.id,
            name: keyName,
            roles: parsed.values.role === undefined ? account.roles : wanted,
            expiresAt: days === undefined ? null : new Date(Date.now() + days * DAY_MS),
          });
          say(
            `created API key ${created.id} "${created.name}" for ${account.login} (roles ${created.roles.join(', ') || '(none)'}; ${created.expiresAt ? `expires ${shownTime(created.expiresAt)}` : 'does not expire'})`,
          );
          say('the key is the line on standard output, shown this once: Kiln keeps only its hash');
          console.log(created.key);
          return 0;
        });
      }
      case 'list':
        return withAuthCli(parsed, model, (cli) => list(cli, parsed));
      case 'revoke':
        return withAuthCli(parsed, model, async (cli) => {
          const id = parsed.positionals[0] ?? '';
          const revoked = await cli.apiKeys.revoke(id);
          if (!revoked) throw new CommandError(`there is no API key ${id} that is not revoked already (see "kiln api-keys list")`);
          const owner = await cli.accounts.findById(revoked.accountId);
          say(`revoked API key ${revoked.id} "${revoked.name}" of ${owner?.login ?? `account ${revoked.accountId}`}; it stopped working`);
          return 0;
        });
    }
  });
}

function expiresInDays(parsed: Parsed): number | undefined {
  const text = parsed.values['expires-in-days'];
  if (text === undefined) return undefined;
  const days = typeof text === 'string' && /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(days >= 1 && days <= MAX_DAYS)) throw new UsageError(`--expires-in-days must be a whole number of days from 1 to ${MAX_DAYS}`);
  return days;
}

async function list(cli: AuthCli, parsed: Parsed): Promise<number> {
  const login = parsed.values.account;
  const only = typeof login === 'string' ? await cli.account(login) : undefined;
  const keys = await cli.apiKeys.list({ ...(only && { accountId: only.id }), includeRevoked: true });
  if (keys.length === 0) {
    console.error(`kiln api-keys list: no API keys${only ? ` for ${only.login}` : ''} yet; create one with "kiln api-keys create"`);
    return 0;
  }
  const owners = new Map<string, Account | undefined>();
  for (const key of keys) if (!owners.has(key.accountId)) owners.set(key.accountId, await cli.accounts.findById(key.accountId));
  const now = Date.now();
  console.log(
    table(
      ['ID', 'ACCOUNT', 'NAME', 'ROLES', 'CREATED', 'EXPIRES', 'LAST USED', 'STATE'],
      keys.map((k) => [
        k.id,
        owners.get(k.accountId)?.login ?? `(account ${k.accountId})`,
        k.name,
        rolesShown(k.roles),
        shownTime(k.createdAt),
        k.expiresAt ? shownTime(k.expiresAt) : 'never',
        k.lastUsedAt ? shownTime(k.lastUsedAt) : '-',
        state(k, now),
      ]),
    ),
  );
  return 0;
}

function state(key: ApiKeyInfo, now: number): string {
  if (key.revokedAt) return 'revoked';
  return key.expiresAt && Date.parse(key.expiresAt) <= now ? 'expired' : 'active';
}

/** An ISO time to the minute, in UTC: `2026-12-06 01:59Z`. */
const shownTime = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)}Z`;
