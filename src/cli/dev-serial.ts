/**
 * Runs a task one at a time: a request while it runs (a file saved during a reload, or while a
 * question waits for its answer) runs it once more afterwards, never beside it, so two reloads never
 * generate migrations or ask questions at once.
 */
export class Serial {
  #running: Promise<void> | undefined;
  #again = false;

  constructor(private readonly task: () => Promise<void>) {}

  run(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
    });
  }

  /** Resolves once no run is in progress. */
  async idle(): Promise<void> {
    await this.#running;
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      await this.task();
    } while (this.#again);
  }
}
