import { ERRORS, type ErrorCode, type FieldError, type KilnError } from './errors.js';
import { FIXED_LIMITS } from './limits.js';

/** RFC 9457 problem details, the body of every error response. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance: string;
  errors?: readonly FieldError[];
}

export const PROBLEM_TYPE_BASE = 'https://kiln.dev/errors/';

/**
 * The problem document of an error, within the bounds the OpenAPI document states: texts (which can
 * quote client input) at most FIXED_LIMITS.problemTextLength characters, at most problemErrors
 * entries (a bulk body can hold thousands of bad fields; the first ones are enough to fix and resend).
 */
export function toProblem(error: KilnError, requestId: string): Problem {
  const problem: Problem = {
    type: `${PROBLEM_TYPE_BASE}${error.code}`,
    title: ERRORS[error.code].title,
    status: error.status,
    detail: bounded(error.detail),
    code: error.code,
    instance: requestId,
  };
  if (error.errors && error.errors.length > 0) {
    problem.errors = error.errors
      .slice(0, FIXED_LIMITS.problemErrors)
      .map((e) => ({ path: bounded(e.path), code: bounded(e.code), message: bounded(e.message) }));
  }
  return problem;
}

function bounded(text: string): string {
  const max = FIXED_LIMITS.problemTextLength;
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
