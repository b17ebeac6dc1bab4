/**
 * What `kiln dev` does with a changed model: generate the migration (asking at a terminal what flags
 * would otherwise say), print its steps, apply it. The --rename and --backfill flags dev was started
 * with are for the next change that needs them: once a migration using them is applied they are
 * spent, since the next change has nothing left for them to match.
 */
import { rmSync } from 'node:fs';
import { relative } from 'node:path';
import type { Database } from '../db/database.js';
import type { MigrateError } from '../migrate/errors.js';
import { DestructiveStepsError, generateMigration } from '../migrate/generate.js';
import { loadModelSource, type ModelSource } from '../migrate/model-source.js';
import { AmbiguousRenamesError, type Asker } from '../migrate/renames.js';
import { migrateUp } from '../migrate/runner.js';
import { forgetLoadedModelFiles } from './dev-watch.js';
import type { CliOptions } from './main.js';

const say = (line: string) => console.error(`kiln dev: ${line}`);

export class DevMigrations {
  #renames: readonly string[];
  #backfill: readonly string[];

  constructor(
    private readonly file: string,
    private readonly dir: string,
    private readonly options: CliOptions,
    private readonly ask: Asker | undefined,
  ) {
    this.#renames = options.rename ?? [];
    this.#backfill = options.backfill ?? [];
  }

  /** Loads the model, generates and applies its migration; `changed` when one was applied. */
  async sync(db: Database): Promise<ModelSource & { changed: boolean }> {
    forgetLoadedModelFiles();
    const { model, declaration } = await loadModelSource(this.file);
    const result = await generateMigration({
      model,
      declaration,
      dir: this.dir,
      renames: this.#renames,
      noRenames: this.options.noRenames,
      backfill: this.#backfill,
      allowDestructive: this.options.allowDestructive,
      ask: this.ask,
    });
    if (result.written) {
      const steps = result.plan.steps.map((s) => `  ${s.destructive ? '! DESTRUCTIVE ' : ''}${s.summary}`);
      say(`the model changed; wrote ${relative(process.cwd(), result.folder)}/\n${steps.join('\n')}`);
    }
    try {
      const { applied } = await migrateUp(db, this.dir, { log: say });
      if (result.written) {
        this.#renames = [];
        this.#backfill = [];
      }
      return { model, declaration, changed: applied.length > 0 };
    } catch (error) {
      if (result.written) {
        rmSync(result.folder, { recursive: true, force: true });
        say(`removed ${relative(process.cwd(), result.folder)}/ again, as it could not be applied`);
      }
      throw error;
    }
  }

  /**
   * What to tell a person about a change that was not made. Without a terminal, a change that needs a
   * decision names the flag; dev reads flags only when it starts, so it has to be started again.
   */
  static advice(error: MigrateError): string {
    // At a terminal these are asked instead, so they only come without one.
    const needsFlag = error instanceof AmbiguousRenamesError || error instanceof DestructiveStepsError;
    if (!needsFlag) return '';
    return 'To make this change, stop kiln dev and start it again with the flag named above (kiln dev takes the flags of kiln migrate generate), or run it in a terminal, where it asks.\n';
  }
}
