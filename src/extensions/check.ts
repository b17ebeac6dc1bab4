/**
 * Separates the app's code from the model's data. Hooks (`resources.<name>.hooks`), routes (`routes`)
 * and an extensions module (`extensions`, already imported by loadModel) are functions, not data:
 * they are taken out before the declaration is copied as plain data, so they never reach the model
 * checks, the frozen IR's data or a migration snapshot, and are checked here instead.
 */
import { isErrorCode } from '../core/errors.js';
import { FrozenMap } from '../model/frozen-map.js';
import { isPlainObject } from '../model/plain-data.js';
import type { ProblemList } from '../model/problems.js';
import { HOOK_NAMES, type HookName, type ModelExtensions, type ResourceHooks, ROUTE_METHODS, type RouteDefinition } from './types.js';

export interface Separated {
  /** The declaration without hooks, routes or extensions: plain data for the model checks. */
  readonly declaration: unknown;
  /** Undefined when the model declares no hooks and no routes. */
  readonly extensions: ModelExtensions | undefined;
  /** Where each route was declared (`routes.0`, `extensions.routes.1`), for the problems found later. */
  readonly routeLabels: readonly string[];
}

const HOOK_EXAMPLE = 'hooks: { beforeCreate({ input }) { … } }';
const ROUTE_KEYS = ['method', 'path', 'summary', 'description', 'tags', 'params', 'query', 'body', 'response', 'status', 'errors', 'authenticated', 'handler'];
/** Static segments (letters, digits, `-._~`) and `:name` parameters, each after a `/`. */
export const ROUTE_PATH = /^(\/([A-Za-z0-9._~-]+|:[A-Za-z][A-Za-z0-9_]*))+$/;

export function separateExtensions(input: unknown, problems: ProblemList): Separated {
  if (!isPlainObject(input)) return { declaration: input, extensions: undefined, routeLabels: [] };
  const { routes, extensions: module, ...rest } = input;
  const hooks = new Map<string, ResourceHooks>();
  const allRoutes: RouteDefinition[] = [];
  const routeLabels: string[] = [];
  let declaration: Record<string, unknown> = rest;
  if (isPlainObject(rest.resources)) {
    // fromEntries defines own properties, so a resource named "__proto__" stays a (refused) name, not the prototype.
    const resources = Object.fromEntries(
      Object.entries(rest.resources).map(([name, resource]) => {
        if (!isPlainObject(resource) || !('hooks' in resource)) return [name, resource];
        const { hooks: declared, ...data } = resource;
        if (declared !== undefined) addHooks(hooks, name, declared, `resources.${name}.hooks`, problems);
        return [name, data];
      }),
    );
    declaration = { ...rest, resources };
  }
  if (routes !== undefined) allRoutes.push(...checkRoutes(routes, 'routes', problems, routeLabels));
  if (module !== undefined) {
    if (typeof module === 'string') {
      problems.add(
        'extensions',
        `the module "${module}" has not been imported`,
        'load the model with loadModel (or kiln serve), which imports it relative to the model file',
      );
    } else if (!isPlainObject(module)) {
      problems.add('extensions', 'expected the path of a module whose default export is { hooks, routes }', 'e.g. extensions: ./blog-extensions.ts');
    } else {
      for (const key of Object.keys(module)) {
        if (key !== 'hooks' && key !== 'routes')
          problems.add(`extensions.${key}`, `unknown key "${key}" in the extensions module's export`, 'export only { hooks, routes }');
      }
      const names = isPlainObject(rest.resources) ? Object.keys(rest.resources) : [];
      if (module.hooks !== undefined && !isPlainObject(module.hooks)) {
        problems.add('extensions.hooks', 'expected an object of hooks by resource name', 'e.g. hooks: { posts: { beforeCreate({ input }) { … } } }');
      } else if (module.hooks) {
        for (const [name, declared] of Object.entries(module.hooks)) {
          if (!names.includes(name)) problems.add(`extensions.hooks.${name}`, `"${name}" is not a resource of this model`, `use one of: ${names.join(', ')}`);
          else addHooks(hooks, name, declared, `extensions.hooks.${name}`, problems);
        }
      }
      if (module.routes !== undefined) allRoutes.push(...checkRoutes(module.routes, 'extensions.routes', problems, routeLabels));
    }
  }
  if (hooks.size === 0 && allRoutes.length === 0) return { declaration, extensions: undefined, routeLabels };
  return { declaration, extensions: { hooks: new FrozenMap(hooks), routes: allRoutes }, routeLabels };
}

/** Whether `codes` is a list of registered error codes; each one that is not is a problem. */
function checkCodes(codes: unknown, at: string, problems: ProblemList): boolean {
  if (!Array.isArray(codes)) {
    problems.add(at, 'expected a list of error codes', "e.g. errors: ['KILN_NOT_FOUND']");
    return false;
  }
  const before = problems.items.length;
  for (const [j, code] of codes.entries()) {
    if (typeof code !== 'string' || !isErrorCode(code)) {
      problems.add(
        `${at}.${j}`,
        `${JSON.stringify(code)} is not a registered error code`,
        'use a KILN_ code, or register yours with registerErrorCode before the model loads',
      );
    }
  }
  return problems.items.length === before;
}

/** Checks one resource's hooks and adds them (as a fresh object) to `into`; a hook declared twice is a problem. */
function addHooks(into: Map<string, ResourceHooks>, resource: string, declared: unknown, at: string, problems: ProblemList): void {
  if (!isPlainObject(declared)) {
    problems.add(at, 'hooks must be an object of functions', HOOK_EXAMPLE);
    return;
  }
  const hooks: Partial<Record<HookName | 'errors', unknown>> = { ...into.get(resource) };
  for (const [name, hook] of Object.entries(declared)) {
    if (name === 'errors') {
      if (checkCodes(hook, `${at}.errors`, problems))
        hooks.errors = Object.freeze([...new Set([...((hooks.errors as string[]) ?? []), ...(hook as string[])])]);
    } else if (!(HOOK_NAMES as readonly string[]).includes(name)) {
      const near = closest(name, HOOK_NAMES);
      problems.add(`${at}.${name}`, `unknown hook "${name}"`, `${near ? `did you mean "${near}"? ` : ''}hooks are: ${HOOK_NAMES.join(', ')}`);
    } else if (typeof hook !== 'function') {
      problems.add(`${at}.${name}`, `the hook "${name}" is not a function`, `write it as a function: ${name}({ input, ctx }) { … }`);
    } else if (hooks[name as HookName]) {
      problems.add(
        `${at}.${name}`,
        `the hook "${name}" of ${resource} is declared twice (beside the resource and in the extensions module)`,
        'keep one of them',
      );
    } else hooks[name as HookName] = hook;
  }
  if (Object.keys(hooks).length > 0) into.set(resource, Object.freeze(hooks) as ResourceHooks);
}

/** The shape of each route; what depends on the resources (collisions, `response.resource`) is checked by checkRouteTargets. */
export function checkRoutes(routes: unknown, at: string, problems: ProblemList, labels: string[] = []): RouteDefinition[] {
  if (!Array.isArray(routes)) {
    problems.add(at, 'expected a list of routes', "e.g. routes: [defineRoute({ method: 'POST', path: '/posts/:id/publish', … })]");
    return [];
  }
  const out: RouteDefinition[] = [];
  routes.forEach((route, i) => {
    const where = `${at}.${i}`;
    const before = problems.items.length;
    if (!isPlainObject(route)) {
      problems.add(where, 'a route must be an object', 'write it with defineRoute({ method, path, handler, … })');
      return;
    }
    for (const key of Object.keys(route)) {
      if (!ROUTE_KEYS.includes(key)) problems.add(`${where}.${key}`, `unknown route option "${key}"`, `use one of: ${ROUTE_KEYS.join(', ')}`);
    }
    if (!(ROUTE_METHODS as readonly unknown[]).includes(route.method)) {
      problems.add(`${where}.method`, `${JSON.stringify(route.method)} is not a route method`, `use one of: ${ROUTE_METHODS.join(', ')}`);
    }
    if (typeof route.path !== 'string' || !ROUTE_PATH.test(route.path)) {
      problems.add(
        `${where}.path`,
        `${JSON.stringify(route.path)} is not a route path`,
        "write it below the API prefix, from a '/', with segments of letters, digits, -._~ or :parameters, e.g. '/posts/:id/publish'",
      );
    }
    if (typeof route.handler !== 'function')
      problems.add(`${where}.handler`, 'the handler is not a function', 'handler: async ({ ctx, params, body, ops }) => { … }');
    for (const key of ['summary', 'description'] as const) {
      if (route[key] !== undefined && typeof route[key] !== 'string') problems.add(`${where}.${key}`, `expected text`, `e.g. ${key}: 'Publish a post'`);
    }
    if (route.authenticated !== undefined && typeof route.authenticated !== 'boolean') {
      problems.add(`${where}.authenticated`, 'expected true or false', 'authenticated: true answers 401 to an anonymous caller');
    }
    if (route.tags !== undefined && (!Array.isArray(route.tags) || route.tags.some((t) => typeof t !== 'string'))) {
      problems.add(`${where}.tags`, 'expected a list of tag names', "e.g. tags: ['posts']");
    }
    for (const key of ['params', 'query', 'body', 'response'] as const) {
      if (route[key] !== undefined && !isPlainObject(route[key]))
        problems.add(`${where}.${key}`, 'expected a JSON Schema object', "e.g. { type: 'object', properties: { … } }");
    }
    const status = route.status ?? 200;
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 299) {
      problems.add(`${where}.status`, `${JSON.stringify(route.status)} is not a success status`, 'use 200 to 299 (errors are thrown as KilnError)');
    } else if (status !== 204 && route.response === undefined) {
      problems.add(
        `${where}.response`,
        'a route that answers with a body needs a response schema',
        "give response: { type: 'object', … } or { resource: 'posts' }, or status: 204",
      );
    } else if (status === 204 && route.response !== undefined) {
      problems.add(`${where}.response`, 'a 204 answer has no body', 'remove response, or use another status');
    }
    if (route.errors !== undefined) checkCodes(route.errors, `${where}.errors`, problems);
    if (problems.items.length === before) {
      out.push(copyRoute(route));
      labels.push(where);
    }
  });
  return out;
}

/**
 * What a route may not share with the generated routes or with another route: the same method on the
 * same path (parameter names aside). `paths` are the resources' URL segments.
 */
export function checkRouteTargets(
  routes: readonly RouteDefinition[],
  labels: readonly string[],
  resources: ReadonlyMap<string, string>,
  problems: ProblemList,
): void {
  const taken = new Map<string, string>();
  for (const [name, path] of resources) {
    const claim = (method: string, suffix: string, what: string) =>
      taken.set(`${method} ${shape(`/${path}${suffix}`)}`, `the generated route ${what} of ${name}`);
    claim('GET', '', '"list"');
    claim('POST', '', '"create"');
    claim('POST', '/bulk', '"bulk create"');
    for (const [method, what] of [
      ['GET', '"get"'],
      ['PATCH', '"update"'],
      ['PUT', '"replace"'],
      ['DELETE', '"delete"'],
    ] as const)
      claim(method, '/:id', what);
  }
  routes.forEach((route, i) => {
    const at = labels[i] ?? `routes.${i}`;
    const key = `${route.method} ${shape(route.path)}`;
    const other = taken.get(key);
    if (other) {
      problems.add(at, `${route.method} ${route.path} is already served by ${other}`, 'choose another path or method for this route');
    } else taken.set(key, `the route ${at}`);
    const response = route.response as { resource?: unknown } | undefined;
    if (response && 'resource' in response && !resources.has(String(response.resource))) {
      problems.add(
        `${at}.response.resource`,
        `${JSON.stringify(response.resource)} is not a resource of this model`,
        `use one of: ${[...resources.keys()].join(', ')}`,
      );
    }
  });
}

/** `/posts/:id/publish` and `/posts/:postId/publish` are one route to the router. */
function shape(path: string): string {
  return path.replace(/:[^/]+/g, ':').replace(/\/+$/, '');
}

/** A route as Kiln keeps it: its own object, schemas copied, so nothing the app holds is frozen or shared. */
function copyRoute(route: Record<string, unknown>): RouteDefinition {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(route)) {
    if (value !== undefined) copy[key] = typeof value === 'function' ? value : structuredClone(value);
  }
  return copy as unknown as RouteDefinition;
}

function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let distance = 3;
  for (const candidate of candidates) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < distance) [best, distance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min((previous[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length] ?? 0;
}
