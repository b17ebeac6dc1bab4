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
