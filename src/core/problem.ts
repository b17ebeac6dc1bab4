import { ERRORS, type ErrorCode, type FieldError, type KilnError } from './errors.js';

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

export function toProblem(error: KilnError, requestId: string): Problem {
  const problem: Problem = {
    type: `${PROBLEM_TYPE_BASE}${error.code}`,
    title: ERRORS[error.code].title,
    status: error.status,
    detail: error.detail,
    code: error.code,
    instance: requestId,
  };
  if (error.errors && error.errors.length > 0) problem.errors = error.errors;
  return problem;
}
