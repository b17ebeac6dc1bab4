/**
 * The answer to an operation that ran without errors, written by JSON.stringify alone. graphql-http
 * writes every answer with a replacer function (to hide the internals of a plain Error), which takes
 * V8 off its fast serialisation path: a page of 20 posts with their authors took about twice as
 * long to write. A result without errors holds no Error, so it needs no replacer; answers with errors
 * are still written by graphql-http, through Kiln's formatError.
 */
import type { ExecutionResult } from 'graphql';
import type { Response } from 'graphql-http';

const GRAPHQL_RESPONSE = 'application/graphql-response+json; charset=utf-8';
const JSON_RESPONSE = 'application/json; charset=utf-8';

/**
 * The media type graphql-http chose for the request (its handler reads Accept the same way, and
 * answers 406 before any operation runs when neither is acceptable): the first of the listed types
 * that is application/graphql-response+json, or application/json or a range covering it, in UTF-8.
 */
export function answerMediaType(accept: string | undefined): string {
  for (const entry of (accept || '*/*').replace(/\s/g, '').toLowerCase().split(',')) {
    const [type, ...params] = entry.split(';');
    const charset = params.find((param) => param.includes('charset=')) ?? 'charset=utf-8';
    if (type === 'application/graphql-response+json' && charset === 'charset=utf-8') return GRAPHQL_RESPONSE;
    if ((type === 'application/json' || type === 'application/*' || type === '*/*') && (charset === 'charset=utf-8' || charset === 'charset=utf8')) {
      return JSON_RESPONSE;
    }
  }
  return JSON_RESPONSE;
}

/** A 200 response of `result`, which must hold no errors. */
export function okResponse(accept: string | undefined, result: ExecutionResult): Response {
  return [JSON.stringify(result), { status: 200, statusText: 'OK', headers: { 'content-type': answerMediaType(accept) } }];
}
