/**
 * The document's `info`: what the model's `api` option says (src/model/check-api.ts), with the
 * notes Kiln adds on errors and bounds after the model's own description. Contact and license appear
 * only when the model gives them: a made-up contact would send the API's readers to the wrong place.
 */
import { FIXED_LIMITS } from '../core/limits.js';
import type { JsonSchema } from '../core/schemas.js';
import type { ApiInfo } from '../model/ir.js';
import type { DocumentLimits } from './document.js';

export function infoObject(api: ApiInfo, overrides: { title?: string; version?: string }, limits: DocumentLimits): JsonSchema {
  const info: JsonSchema = {
    title: overrides.title ?? api.title,
    version: overrides.version ?? api.version,
    description: [
      ...(api.description ? [api.description] : []),
      'REST API served by Kiln. Lists take the query grammar described on each list operation; errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`.',
      'Every operation may also answer 405 `KILN_METHOD_NOT_ALLOWED` with `Allow` (a method its path does not serve), 408 `KILN_REQUEST_TIMEOUT`, 414 `KILN_URI_TOO_LONG` and 431 `KILN_HEADERS_TOO_LARGE`. Before a request reaches a route, the server may also answer 400 `KILN_BAD_REQUEST`; a path it does not serve answers 404 `KILN_ROUTE_NOT_FOUND`.',
      boundsInWords(limits),
    ].join('\n\n'),
  };
  if (api.contact) info.contact = { ...api.contact };
  if (api.license) info.license = { ...api.license };
  return info;
}

/** The client-controlled bounds, stated once for the whole API (each operation repeats those it applies). */
function boundsInWords(limits: DocumentLimits): string {
  return [
    `Bounds: a request body is at most ${limits.bodyLimit} bytes (413 \`KILN_BODY_TOO_LARGE\` above) and nests arrays and objects at most ${FIXED_LIMITS.jsonDepth} levels deep;`,
    `a string or text field without a maxLength of its own holds at most ${limits.textMaxLength} characters;`,
    `a bulk create carries 1 to ${limits.bulkMaxItems} records;`,
    `a list page holds \`limit\` records (${limits.pageDefaultLimit} when not given, at most ${limits.pageMaxLimit});`,
    `\`include\` nests at most ${limits.includeMaxDepth} levels and embeds at most ${limits.includeLimit} records per parent for a hasMany or manyToMany (a parent with more lists the relation in \`_truncated\`);`,
    `a request whose page and includes could return more than ${limits.includeMaxRows} records at worst is refused with 400 \`KILN_QUERY_INVALID\` naming \`include\` or \`limit\`.`,
  ].join(' ');
}
