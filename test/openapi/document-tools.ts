import assert from 'node:assert/strict';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import type { TestResponse, TestServer } from '../helpers/server.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

export const METHODS = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'] as const;

/** `GET /v1/posts/{id}` for every operation of the document. */
export function documentedOperations(document: any): string[] {
  return Object.entries<any>(document.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m.toLowerCase()]).map((m) => `${m} ${path}`));
}

/**
 * Every (method, path) Fastify registered, read from `printRoutes`: a tree whose lines are
 * `│   ├── /segment (GET, HEAD)`, four characters of indentation per level.
 */
export function registeredRoutes(app: FastifyInstance): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    stack.length = (match[1] ?? '').length / 4;
    stack.push(match[2] ?? '');
    const path = stack.join('').replace(/:(\w+)/g, '{$1}');
    for (const method of (match[3] ?? '').split(', ').filter(Boolean)) out.push(`${method} ${path}`);
  }
  return out;
}

/** The route template the server matched for a request, from its log line (`null` when none matched). */
export async function matchedRoute(server: TestServer, requestId: string): Promise<string | null> {
  for (let i = 0; i < 100; i++) {
    const line = server.logs.find((l) => l.reqId === requestId && l.msg === 'request');
    if (line) return line.route === null ? null : String(line.route).replace(/:(\w+)/g, '{$1}');
    await new Promise((done) => setTimeout(done, 10));
  }
  throw new Error(`no log line for request ${requestId}`);
}

/** Validates real responses against the responses the document declares. */
export class ResponseChecker {
  readonly #document: any;
  readonly #ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
  readonly #compiled = new Map<string, ValidateFunction<any>>();

  constructor(document: any) {
    this.#document = document;
  }

  /** The documented response of an operation for a status, with a response `$ref` resolved. */
  response(method: string, path: string, status: number): any {
    const operation = this.#document.paths[path]?.[method.toLowerCase()];
    assert.ok(operation, `${method} ${path} is not documented`);
    const response = operation.responses[String(status)];
    assert.ok(response, `${method} ${path} answered ${status}, which the document does not list (it lists ${Object.keys(operation.responses).join(', ')})`);
    const ref = response.$ref as string | undefined;
    return ref ? this.#document.components.responses[ref.split('/').pop() as string] : response;
  }

  /** Asserts the status is documented and the body matches its schema; problems must carry a code listed for that status. */
  async check(method: string, path: string, res: TestResponse): Promise<any> {
    const response = this.response(method, path, res.status);
    const text = await res.text();
    if (!response.content) {
      assert.equal(text, '', `${method} ${path} ${res.status} is documented without a body`);
      return undefined;
    }
    const [media, entry] = Object.entries<any>(response.content)[0] as [string, any];
    assert.equal((res.headers.get('content-type') ?? '').split(';')[0], media, `${method} ${path} ${res.status}`);
    const body: any = JSON.parse(text);
    const validate = this.#validator(entry.schema);
    assert.ok(validate(body), `${method} ${path} ${res.status} body does not match the document: ${this.#ajv.errorsText(validate.errors)}\n${text}`);
    if (media === 'application/problem+json') {
      const codes = entry.examples ? Object.keys(entry.examples) : [entry.example.code];
      assert.ok(codes.includes(body.code), `${method} ${path} ${res.status} answered ${body.code}; the document lists ${codes.join(', ')}`);
    }
    for (const name of Object.keys(response.headers ?? {})) {
      if (name === 'Location' || name === 'Idempotent-Replayed') continue; // only on some answers
      if (name === 'RateLimit' || name === 'RateLimit-Policy') continue; // only on the answers to calls a rate limit counted
      assert.ok(res.headers.has(name), `${method} ${path} ${res.status} lacks the documented header ${name}`);
    }
    return body;
  }

  #validator(schema: unknown): ValidateFunction<any> {
    const key = JSON.stringify(schema);
    let validate = this.#compiled.get(key);
    if (!validate) {
      // `#/components/...` references resolve against this root, which carries the document's components.
      validate = this.#ajv.compile({ ...(schema as object), components: this.#document.components });
      this.#compiled.set(key, validate);
    }
    return validate;
  }
}
