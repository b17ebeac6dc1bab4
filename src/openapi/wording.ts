/**
 * Operation summaries in plain English, from the resource's singular phrase ("Get a blog post") and its
 * name in words ("List blog posts"). Summaries are what /docs lists and what many generated clients
 * turn into method comments, so they read as sentences, not as identifiers.
 */
import { withArticle } from '../core/words.js';
import type { Resource } from '../model/ir.js';
import { toSnakeCase } from '../model/naming.js';

/** The resource's name in words, which names its records in the plural: `blogPosts` → "blog posts". */
export function pluralPhrase(resource: Resource): string {
  return toSnakeCase(resource.name).split('_').filter(Boolean).join(' ');
}

export interface Summaries {
  readonly list: string;
  readonly create: string;
  readonly createMany: string;
  readonly get: string;
  readonly update: string;
  readonly replace: string;
  readonly delete: string;
}

export function summaries(resource: Resource): Summaries {
  const one = withArticle(resource.singular);
  const many = pluralPhrase(resource);
  return {
    list: `List ${many}`,
    create: `Create ${one}`,
    createMany: `Create many ${many}`,
    get: `Get ${one}`,
    update: `Update ${one}`,
    replace: `Replace ${one}`,
    delete: `Delete ${one}`,
  };
}
