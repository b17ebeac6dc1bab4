/** A migration plan: the steps of up.sql (or down.sql), in the phases they run in. */
import type { TableShape } from '../sql/ddl.js';
import type { RenameDecisions } from './renames.js';

export interface Step {
  /** One line saying what the step does, e.g. `add field posts.slug`. */
  readonly summary: string;
  readonly sql: readonly string[];
  /** Why the step can lose data or fail on existing rows; such steps need --allow-destructive. */
  readonly destructive?: string;
  /**
   * `resource.field` of a required column that existing rows have no value for (added without a
   * default, or made NOT NULL); a `--backfill` for it (or an answer at the prompt) gives them one.
   */
  readonly needsValue?: { readonly field: string; readonly table: string; readonly change: 'added' | 'required' };
  /** Further comment lines for the reviewer. */
  readonly notes?: readonly string[];
  /**
   * Why Kiln cannot write this step (down.sql only: up refuses such changes instead). The step has
   * no SQL; it is rendered as a comment where a person writes the statements.
   */
  readonly irreversible?: string;
}

export interface Plan {
  readonly steps: readonly Step[];
  /** Changes Kiln cannot make at all, with what to do instead (up only; down.sql marks irreversible steps). */
  readonly refusals: readonly string[];
  /** Keys of the backfill expressions the plan used. */
  readonly backfillsUsed: ReadonlySet<string>;
}

export interface DiffOptions {
  readonly renames: RenameDecisions;
  /** `resource.field` → SQL expression filling existing rows when a column becomes NOT NULL. */
  readonly backfill?: ReadonlyMap<string, string>;
  /** Planning down.sql: advice names what to do to the data, not generate flags. */
  readonly down?: boolean;
}

export const PHASES = {
  dropForeignKeys: 0,
  dropConstraints: 1,
  dropJoinTables: 2,
  renames: 3,
  dropColumns: 4,
  dropTables: 5,
  createTables: 6,
  columns: 7,
  addConstraints: 8,
  addForeignKeys: 9,
  createJoinTables: 10,
} as const;

/** A table in both snapshots, with its columns paired (a renamed column pairs with its old self). */
export interface TablePair {
  readonly before: TableShape;
  readonly after: TableShape;
  /** Resource (or join table) name for messages. */
  readonly label: string;
  /** Old column name → new column name, for the columns that stay. */
  readonly columns: ReadonlyMap<string, string>;
}

export class PlanBuilder {
  readonly #phases: Step[][] = Object.values(PHASES).map(() => []);
  readonly refusals: string[] = [];
  readonly backfillsUsed = new Set<string>();

  constructor(readonly options: DiffOptions) {}

  add(phase: number, step: Step): void {
    this.#phases[phase]?.push(step);
  }

  plan(): Plan {
    return { steps: this.#phases.flat(), refusals: this.refusals, backfillsUsed: this.backfillsUsed };
  }
}
