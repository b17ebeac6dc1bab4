import type { Resource } from '../model/ir.js';
import { toPascalCase } from '../model/naming.js';

export type Variant = '' | 'Create' | 'Update' | 'Replace' | 'Selection';
export const VARIANTS = ['Create', 'Update', 'Replace'] as const;

/**
 * Component schema names: Problem and Page first, then each resource's PascalCase name and its
 * variants. A resource whose names would take one already given (a resource `page`, or `postsCreate`
 * beside `posts`) gets a numbered stem (`Page2`, `Page2Create`, …), so no schema silently replaces another.
 */
export class SchemaNames {
  readonly #names = new Map<string, string>();
  readonly #taken = new Set(['Problem', 'Page']);

  constructor(resources: readonly Resource[]) {
    const variants = ['', ...VARIANTS, 'Selection'] as const;
    for (const r of resources) {
      let stem = toPascalCase(r.name);
      for (let n = 2; variants.some((v) => this.#taken.has(`${stem}${v}`)); n++) stem = `${toPascalCase(r.name)}${n}`;
      for (const variant of variants) {
        this.#taken.add(`${stem}${variant}`);
        this.#names.set(`${r.name}:${variant}`, `${stem}${variant}`);
      }
    }
  }

  of(r: Resource, variant: Variant = ''): string {
    return this.#names.get(`${r.name}:${variant}`) as string;
  }

  ref(r: Resource, variant: Variant = ''): { $ref: string } {
    return { $ref: `#/components/schemas/${this.of(r, variant)}` };
  }
}
