/**
 * Refuses a `pattern` that could block the event loop. JavaScript regular expressions backtrack: on
 * a pattern like `^(a+)+$` a request body of thirty characters takes seconds, and one such request
 * stalls every other. `recheck` decides whether a pattern backtracks catastrophically (by automata
 * theory, or by fuzzing when the pattern is too large) and how badly:
 *
 * - exponential: refused, whatever the input length;
 * - polynomial of degree k: refused unless the field declares a maxLength n with n^k ≤ 10^7 steps:
 *   a longer value is refused, so the pattern never runs on more than n characters (this holds only
 *   while validation checks a string's length before its pattern);
 * - undecided (the analysis timed out or does not understand the pattern): refused, since it cannot
 *   be shown safe.
 *
 * recheck runs its native backend in a helper process; the first check of a process takes most of a
 * second, so it is only called for models that declare patterns, and each verdict is remembered.
 * See https://makenowjust-labs.github.io/recheck/ for the analysis.
 */
import { createRequire } from 'node:module';
import type { Diagnostics } from 'recheck';

/** How many backtracking steps one match may take, at worst, on the longest accepted input. */
export const MAX_PATTERN_STEPS = 10_000_000;
/** The analysis of one pattern may take this long; beyond it the pattern counts as undecided. */
const CHECK_TIMEOUT_MS = 3000;

export type PatternVerdict =
  | { readonly kind: 'safe' }
  | { readonly kind: 'exponential' }
  | { readonly kind: 'polynomial'; readonly degree: number }
  | { readonly kind: 'undecided'; readonly why: string };

const verdicts = new Map<string, PatternVerdict>();

/**
 * recheck is loaded on first use: parsing its 3 MB bundle takes about half a second, which a model
 * without patterns (and every process that never loads a model) should not pay. It is CommonJS, so
 * `require` loads it synchronously, as the synchronous compiler needs.
 */
let checkSync: typeof import('recheck').checkSync | undefined;
function recheck(): typeof import('recheck').checkSync {
  checkSync ??= (createRequire(import.meta.url)('recheck') as typeof import('recheck')).checkSync;
  return checkSync;
}

/** What recheck says about a pattern compiled with the `u` flag, as request validation compiles it. */
export function analysePattern(source: string, timeoutMs = CHECK_TIMEOUT_MS): PatternVerdict {
  let verdict = verdicts.get(source);
  if (!verdict) {
    verdict = toVerdict(runCheck(source, timeoutMs), timeoutMs);
    // A timeout may be the machine being busy, not the pattern: ask again next time.
    if (verdict.kind !== 'undecided') verdicts.set(source, verdict);
  }
  return verdict;
}

function runCheck(source: string, timeoutMs: number): Diagnostics | Error {
  try {
    return recheck()(source, 'u', { timeout: timeoutMs });
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function toVerdict(result: Diagnostics | Error, timeoutMs: number): PatternVerdict {
  if (result instanceof Error) return { kind: 'undecided', why: `the analysis failed (${result.message.split('\n')[0]})` };
  switch (result.status) {
    case 'safe':
      return { kind: 'safe' };
    case 'vulnerable':
      return result.complexity.type === 'exponential' ? { kind: 'exponential' } : { kind: 'polynomial', degree: result.complexity.degree };
    default: {
      const error = result.error;
      const why = error.kind === 'timeout' ? `the analysis did not finish within ${timeoutMs} ms` : `the analysis failed (${error.kind})`;
      return { kind: 'undecided', why };
    }
  }
}

/** Why a pattern is refused, with what to do, or undefined when it is safe for the field. */
export function patternProblem(source: string, maxLength: number | undefined, timeoutMs?: number): { message: string; hint: string } | undefined {
  const verdict = analysePattern(source, timeoutMs);
  switch (verdict.kind) {
    case 'safe':
      return undefined;
    case 'exponential':
      return {
        message: 'the pattern can backtrack exponentially: a short input can keep the server busy for minutes',
        hint: 'rewrite it without nested or overlapping quantifiers, e.g. ^(a+)+$ → ^a+$, (a|a)*$ → a*$',
      };
    case 'polynomial': {
      if (maxLength !== undefined && maxLength ** verdict.degree <= MAX_PATTERN_STEPS) return undefined;
      const bound = Math.floor(MAX_PATTERN_STEPS ** (1 / verdict.degree));
      const now = maxLength === undefined ? 'without a maxLength' : `with maxLength ${maxLength}`;
      return {
        message: `the pattern can backtrack polynomially (degree ${verdict.degree}): ${now}, one input can take up to length^${verdict.degree} steps`,
        hint: `rewrite it without overlapping quantifiers (e.g. ^\\d+\\d+$ → ^\\d{2,}$), or declare maxLength: ${bound} or less`,
      };
    }
    case 'undecided':
      return {
        message: `the pattern could not be shown safe from catastrophic backtracking: ${verdict.why}`,
        hint: 'simplify the pattern (fewer nested or repeated groups), or check the field in code instead',
      };
  }
}
