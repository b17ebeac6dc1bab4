import { SETTINGS } from '../config/settings.js';
import type { CustomErrorCode, ErrorCode, FieldError, KilnError } from './errors.js';
import { FIXED_LIMITS } from './limits.js';

/** RFC 9457 problem details, the body of every error response. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode | CustomErrorCode;
  instance: string;
  errors?: readonly FieldError[];
}

/** The default start of a problem `type`; KILN_PROBLEM_TYPE_BASE sets the one a server uses. */
export const PROBLEM_TYPE_BASE = SETTINGS.problemTypeBase.default;

/**
 * The problem document of an error, within the bounds the OpenAPI document states: texts (which can
 * quote client input) at most FIXED_LIMITS.problemTextLength characters, at most problemErrors
 * entries (a bulk body can hold thousands of bad fields; the first ones are enough to fix and resend).
 */
export function toProblem(error: KilnError, requestId: string, typeBase: string = PROBLEM_TYPE_BASE): Problem {
  const problem: Problem = {
    type: `${typeBase}${error.code}`,
    title: error.title,
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
