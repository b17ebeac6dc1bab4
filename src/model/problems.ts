/** Collects every problem found in a model so the user sees all of them at once, not one per run. */
export interface ModelProblem {
  /** Dotted path to the bad entry, e.g. `resources.posts.fields.author.target`. */
  readonly path: string;
  readonly message: string;
  /** What to do about it. */
  readonly hint: string;
}

export class ProblemList {
  readonly #problems: ModelProblem[] = [];

  add(path: string, message: string, hint: string): void {
    this.#problems.push({ path, message, hint });
  }

  get items(): readonly ModelProblem[] {
    return this.#problems;
  }

  get empty(): boolean {
    return this.#problems.length === 0;
  }
}

export function formatProblems(source: string, problems: readonly ModelProblem[]): string {
  const lines = problems.map((p) => `  - ${p.path}: ${p.message}\n    fix: ${p.hint}`);
  const noun = problems.length === 1 ? 'problem' : 'problems';
  return `${source}: the model has ${problems.length} ${noun}:\n${lines.join('\n')}`;
}
