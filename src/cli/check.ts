import { accessTableOf, openAccessLines, roleLines, tableLines } from '../access/access-table.js';
import { ruleText } from '../access/policy.js';
import { resolveSettings } from '../config/settings.js';
import type { Model } from '../model/ir.js';
import { loadModel } from '../model/load.js';
import type { CliOptions } from './main.js';

/** Prints each resource with its routes and fields, and who may do what, as a reviewer would want to see the surface. */
export async function runCheck(options: CliOptions): Promise<number> {
  const model = await loadModel(options.model);
  const { apiPrefix } = resolveSettings(process.env);
  const out: string[] = [`${options.model}: the model is valid (${model.resources.length} resource${model.resources.length === 1 ? '' : 's'})`, ''];
  for (const r of model.resources) {
    const base = `${apiPrefix}/${r.path}`;
    out.push(`${r.name}  (table ${r.table})`);
    out.push(`  routes: GET ${base}, POST ${base}, POST ${base}/bulk, GET|PATCH|PUT|DELETE ${base}/:id`);
    for (const f of r.fields) {
      const flags = [
        f.required && 'required',
        f.nullable && 'nullable',
        f.unique && 'unique',
        f.readOnly && 'readOnly',
        f.hidden && 'hidden',
        f.hasDefault && f.default !== undefined && f.default !== null && `default ${JSON.stringify(f.default)}`,
        f.fromCaller === 'id' && 'default auth.id',
        ...fieldRules(model, r.name, f.name),
      ].filter(Boolean);
      const type = f.type === 'enum' ? `enum(${f.values?.join('|')})` : f.type;
      out.push(`  ${f.name.padEnd(14)} ${type}${flags.length ? `  ${flags.join(', ')}` : ''}`);
    }
    for (const rel of r.relations) out.push(`  ${rel.name.padEnd(14)} ${rel.kind} → ${rel.target}`);
    const hooks = Object.keys(model.extensions?.hooks.get(r.name) ?? {}).filter((name) => name !== 'errors');
    if (hooks.length > 0) out.push(`  hooks: ${hooks.join(', ')}`);
    out.push('');
  }
  out.push(...accessLines(model));
  out.push(...authLines(model));
  const routes = model.extensions?.routes ?? [];
  if (routes.length > 0) {
    out.push('custom routes');
    for (const route of routes) out.push(`  ${route.method} ${apiPrefix}${route.path}${route.summary ? `  ${route.summary}` : ''}`);
  }
  console.log(out.join('\n').trimEnd());
  return 0;
}

/** A field's read and write rules, as declared. */
function fieldRules(model: Model, resource: string, field: string): string[] {
  const rules = model.access?.resources.get(resource)?.fields.get(field);
  if (!rules) return [];
  return [rules.read && `read ${ruleText(rules.read)}`, rules.write && `write ${ruleText(rules.write)}`].filter((rule) => typeof rule === 'string');
}

/** Who may do what: the roles and the effective access table, or the warning that everything is open to everyone. */
function accessLines(model: Model): string[] {
  const table = accessTableOf(model);
  if (!model.access || !table) return ['access', ...openAccessLines().map((line) => `  ${line}`), ''];
  return ['access', '  roles', ...roleLines(model.access).map((line) => `    ${line}`), ...tableLines(table).map((line) => `  ${line}`), ''];
}

/** The model's `auth`: who the accounts are, how they sign up, which providers and issuers are trusted. */
function authLines(model: Model): string[] {
  const auth = model.auth;
  if (!auth) return [];
  const out = ['auth'];
  const a = auth.accounts;
  if (a) {
    const signup = a.signup.enabled
      ? `signup open${a.signup.fields.length ? ` (also sets ${a.signup.fields.join(', ')})` : ''}`
      : 'signup closed (invite-only)';
    out.push(
      `  accounts   ${a.resource} (login ${a.login}); ${signup}; verification ${a.verification}; passwords ${a.password.minLength}–${a.password.maxLength} characters`,
    );
  }
  for (const p of auth.oidc) out.push(`  oidc       ${p.name}: ${p.issuer} (client ${p.clientId})`);
  for (const b of auth.bearer) out.push(`  bearer     ${b.issuer} (audience ${b.audience}, roles from ${b.rolesClaim})`);
  out.push('');
  return out;
}
