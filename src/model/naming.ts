/** Name conversions shared by every surface, so a field is spelled the same way everywhere. */

export function toSnakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toLowerCase();
}

export function toKebabCase(name: string): string {
  return toSnakeCase(name).replace(/_/g, '-');
}

export function toPascalCase(name: string): string {
  return name
    .split(/[_\-\s]+|(?=[A-Z])/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** Resource and field names: a letter first, then letters and digits (camelCase). */
export const IDENTIFIER = /^[A-Za-z][A-Za-z0-9]*$/;

/** Plural endings and their singular, tried in order; the common English cases, the rest is `singular` in the model. */
const SINGULAR_RULES: readonly (readonly [RegExp, string])[] = [
  [/([^aeiou])ies$/, '$1y'], // categories → category
  [/(ss|x|ch|sh|zz)es$/, '$1'], // addresses, boxes, batches, wishes
  [/(ss|us|is)$/, '$1'], // access, status, analysis: not plurals
  [/s$/, ''], // posts → post
];

/**
 * How messages and docs name one record of a resource, in words: `blogPosts` → "blog post". The
 * last word is made singular by the common English rules; a model overrides it with `singular`.
 */
export function singularPhrase(name: string): string {
  const words = toSnakeCase(name).split('_').filter(Boolean);
  const last = words.pop() ?? name;
  const rule = SINGULAR_RULES.find(([pattern]) => pattern.test(last));
  return [...words, rule ? last.replace(rule[0], rule[1]) : last].join(' ');
}
