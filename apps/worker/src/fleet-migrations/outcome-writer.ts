/**
 * Writes outcomes in the background while the batch goes on, in order, one write at a time: each
 * write takes every organization that finished since the last one. An organization is recorded
 * as soon as the write before it is done, and while the database is slow (commits waiting on a
 * busy disk) one write covers many organizations instead of each waiting for its own.
 */
export class OutcomeWriter {
  private waiting: string[] = [];
  private writing = Promise.resolve();

  constructor(
    private readonly write: (orgIds: string[]) => Promise<void>,
    /** Told what each write covered, and its error if it failed (those organizations stay pending). */
    private readonly written: (orgIds: string[], error?: unknown) => void,
  ) {}

  add(orgId: string): void {
    this.waiting.push(orgId);
    this.writing = this.writing.then(() => this.flush());
  }

  /** Resolves once everything added is written (or its failure reported). */
  settled(): Promise<void> {
    return this.writing;
  }

  private async flush(): Promise<void> {
    if (this.waiting.length === 0) return;
    const orgIds = this.waiting;
    this.waiting = [];
    try {
      await this.write(orgIds);
      this.written(orgIds);
    } catch (error) {
      this.written(orgIds, error);
    }
  }
}
