/**
 * Which methods each path serves, so an unmatched request gets 405 with `Allow` when the path exists
 * and 404 when it does not. Fastify's router alone answers 404 for both.
 */
export class MethodTable {
  // `source` is kept as written: RegExp#source escapes `/`, so it cannot be compared with it.
  readonly #entries: { source: string; pattern: RegExp; literal: boolean; methods: Set<string> }[] = [];

  add(path: string, method: string): void {
    const source = `^${path
      .split('/')
      .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/')}/?$`;
    let entry = this.#entries.find((e) => e.source === source);
    if (!entry) {
      entry = { source, pattern: new RegExp(source), literal: !path.includes('/:'), methods: new Set() };
      this.#entries.push(entry);
    }
    entry.methods.add(method);
    if (method === 'GET') entry.methods.add('HEAD');
  }

  /** Allowed methods for a path, or undefined when no route has that path. */
  allowed(path: string): string[] | undefined {
    // A literal segment (…/bulk) wins over a parameter (…/:id), as in the router.
    const matches = this.#entries.filter((e) => e.pattern.test(path));
    if (matches.length === 0) return undefined;
    const literal = matches.find((e) => e.literal) ?? matches[0];
    return [...(literal?.methods ?? [])].sort();
  }
}
