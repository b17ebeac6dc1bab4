/**
 * The model's `api` option: how the API presents itself in the OpenAPI `info` and on /docs. Checked
 * like every other option (unknown keys and wrong types refused, with what to write instead), because
 * its values are shown to every reader of the document and a generated client takes its name from them.
 */
import type { ApiInfo } from './ir.js';
import { shown, text, type ValueCheck } from './option-values.js';
import { isPlainObject } from './plain-data.js';
import type { ProblemList } from './problems.js';

export const DEFAULT_API_TITLE = 'Kiln API';
export const DEFAULT_API_VERSION = '1.0.0';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const nonEmpty =
  (example: string, note = ''): ValueCheck =>
  (value, option) =>
    typeof value === 'string' && value.trim() !== ''
      ? undefined
      : { message: `${option} must be a non-empty string, not ${shown(value)}`, hint: `e.g. ${option}: "${example}"${note}` };

const webUrl: ValueCheck = (value, option) => {
  if (typeof value === 'string' && /^https?:\/\//.test(value) && URL.canParse(value)) return undefined;
  return { message: `${option} must be an absolute http or https URL, not ${shown(value)}`, hint: `e.g. ${option}: "https://example.com/support"` };
};

const email: ValueCheck = (value, option) =>
  typeof value === 'string' && EMAIL.test(value)
    ? undefined
    : { message: `${option} must be an email address, not ${shown(value)}`, hint: `e.g. ${option}: "api@example.com"` };

const API_OPTIONS: Readonly<Record<string, ValueCheck | undefined>> = {
  title: nonEmpty('Bookshop API'),
  version: nonEmpty('2.1.0', ' (in YAML, quote it: 2.1 alone is a number)'),
  description: text('Orders and stock of the bookshop.'),
  contact: undefined,
  license: undefined,
};
const CONTACT_OPTIONS: Readonly<Record<string, ValueCheck>> = { name: nonEmpty('API team'), url: webUrl, email };
const LICENSE_OPTIONS: Readonly<Record<string, ValueCheck>> = { name: nonEmpty('Apache 2.0'), identifier: nonEmpty('Apache-2.0'), url: webUrl };

/** Checks each key of an object option against its table; reports unknown keys with the known ones. */
function checkOptions(value: Record<string, unknown>, checks: Readonly<Record<string, ValueCheck | undefined>>, path: string, problems: ProblemList): void {
  for (const [key, option] of Object.entries(value)) {
    if (!Object.hasOwn(checks, key)) {
      problems.add(`${path}.${key}`, `unknown ${path} option "${key}"`, `use one of: ${Object.keys(checks).join(', ')}`);
      continue;
    }
    const problem = option === undefined ? undefined : checks[key]?.(option, key);
    if (problem) problems.add(`${path}.${key}`, problem.message, problem.hint);
  }
}

export function checkApi(api: unknown, problems: ProblemList): void {
  if (api === undefined) return;
  if (!isPlainObject(api)) {
    problems.add('api', `api must be an object, not ${shown(api)}`, 'e.g. api: { title: "Bookshop API", version: "2.1.0" }');
    return;
  }
  checkOptions(api, API_OPTIONS, 'api', problems);
  const { contact, license } = api;
  if (contact !== undefined) {
    if (isPlainObject(contact)) checkOptions(contact, CONTACT_OPTIONS, 'api.contact', problems);
    else problems.add('api.contact', `contact must be an object, not ${shown(contact)}`, 'e.g. contact: { name: "API team", email: "api@example.com" }');
  }
  if (license === undefined) return;
  if (!isPlainObject(license)) {
    problems.add('api.license', `license must be an object, not ${shown(license)}`, 'e.g. license: { name: "Apache 2.0", identifier: "Apache-2.0" }');
    return;
  }
  checkOptions(license, LICENSE_OPTIONS, 'api.license', problems);
  if (license.name === undefined) problems.add('api.license.name', 'a license needs a name', 'e.g. license: { name: "Apache 2.0", identifier: "Apache-2.0" }');
  // OpenAPI 3.1: `identifier` and `url` are mutually exclusive.
  if (license.identifier !== undefined && license.url !== undefined) {
    problems.add(
      'api.license',
      'a license has an identifier or a url, not both',
      'keep the SPDX identifier (e.g. "Apache-2.0") and remove url, or the reverse',
    );
  }
}

/** The checked option with its defaults. Keys the model leaves out stay out of the document. */
export function apiInfo(api: unknown): ApiInfo {
  const declared = (isPlainObject(api) ? api : {}) as Partial<ApiInfo>;
  return {
    ...declared,
    title: declared.title ?? DEFAULT_API_TITLE,
    version: declared.version ?? DEFAULT_API_VERSION,
  };
}
