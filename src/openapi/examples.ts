import type { ColumnField, Resource } from '../model/ir.js';

/** An example value that satisfies the field's schema, or undefined when none can be made safely. */
export function exampleValue(field: ColumnField): unknown {
  if (field.example !== undefined) return field.example;
  if (field.role === 'id' || field.role === 'foreignKey') return field.type === 'uuid' ? '3f0e3a4c-8d6b-4c1e-9a51-0f2b6c1d9e77' : 1;
  if (field.role === 'createdAt' || field.role === 'updatedAt') return '2026-01-15T09:30:00.000Z';
  if (
    field.default !== undefined &&
    field.default !== null &&
    !(field.type === 'datetime' && field.default === 'now') &&
    !(field.type === 'uuid' && field.default === 'random')
  ) {
    return field.default;
  }
  switch (field.type) {
    case 'string':
    case 'text': {
      if (field.pattern) return undefined;
      if (field.format === 'email') return 'ada@example.com';
      if (field.format === 'url') return 'https://example.com/';
      if (field.format === 'uuid') return '3f0e3a4c-8d6b-4c1e-9a51-0f2b6c1d9e77';
      let text = `Example ${field.name}`;
      if (field.minLength !== undefined && text.length < field.minLength) text = text.padEnd(field.minLength, '.');
      if (field.maxLength !== undefined) text = text.slice(0, field.maxLength);
      return text;
    }
    case 'integer':
    case 'float':
      return Math.max(field.min ?? 0, Math.min(field.max ?? 42, 42));
    case 'bigint':
      return '9007199254740993';
    case 'decimal':
      return field.scale ? `12.${'5'.padEnd(field.scale, '0')}` : '12';
    case 'boolean':
      return true;
    case 'date':
      return '2026-01-15';
    case 'datetime':
      return '2026-01-15T09:30:00.000Z';
    case 'enum':
      return field.values?.[0];
    case 'uuid':
      return '3f0e3a4c-8d6b-4c1e-9a51-0f2b6c1d9e77';
    case 'json':
      return { any: 'JSON' };
  }
}

/** A record as read, or written (`write`), when every field can have an example. */
export function exampleRecord(resource: Resource, mode: 'read' | 'write'): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const field of resource.fields) {
    if (mode === 'read' ? field.hidden : field.readOnly || (!field.required && field.role !== 'foreignKey')) continue;
    const value = exampleValue(field);
    if (value === undefined) return undefined;
    out[field.name] = value;
  }
  return out;
}
