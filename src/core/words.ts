/** Small helpers for messages written as English sentences. */

/**
 * "a" or "an" before a noun phrase, by its first letter: an item, an order, a user. The letter is a
 * good enough guide for resource names; the few exceptions ("a unicorn", "an hour") read clearly
 * either way, and a model can set `singular` to a phrase that starts as it wants.
 */
export function withArticle(phrase: string): string {
  return `${/^[aeio]|^u(?![nst][aeiou]|r|u)/i.test(phrase) ? 'an' : 'a'} ${phrase}`;
}
