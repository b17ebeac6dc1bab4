/**
 * A JSON number written with more significant digits than a double carries (more than 15). The body
 * parser hands these over as text instead of a rounded `number`, so a decimal or bigint field is
 * validated against exactly what the client sent: `2.0000000000000001` for a `decimal(10, 2)` is
 * refused, not stored as `2.00`. Every other field gets `Number(text)`, as JSON.parse would give.
 */
export class ExactNumber {
  constructor(readonly text: string) {}

  valueOf(): number {
    return Number(this.text);
  }

  /** The text itself, so two bodies that differ only past the 15th digit never fingerprint alike. */
  toJSON(): string {
    return this.text;
  }
}
