/** Media ranges under which a JSON answer (data or problem+json) is acceptable. */
const JSON_RANGE = /^(\*\/\*|application\/\*|application\/json|application\/problem\+json)$/i;
const Q_ZERO = /^q\s*=\s*0(\.0{0,3})?$/i;

/**
 * Whether an Accept header admits JSON: absent or empty, or naming a range that covers it with a
 * non-zero quality (RFC 9110 §12.5.1). The API answers only JSON, so anything else gets a 406.
 */
export function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return accept.split(',').some((part) => {
    const [range = '', ...params] = part.split(';').map((p) => p.trim());
    return JSON_RANGE.test(range) && !params.some((p) => Q_ZERO.test(p));
  });
}
