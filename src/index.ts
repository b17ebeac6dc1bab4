/** Kiln's public API. Everything not exported here is internal. */
export type { Settings } from './config/settings.js';
export { ConfigError, defineSettings, resolveSettings, SETTINGS } from './config/settings.js';
export { type CustomErrorCode, ERRORS, type ErrorCode, type FieldError, KilnError, registerErrorCode } from './core/errors.js';
export type { Limits } from './core/limits.js';
export type { ListResult, Operations, ReadOptions, WriteOptions } from './core/operations.js';
export { and, compare, equals, exists, FALSE, not, or, type Predicate, related, TRUE } from './core/predicate.js';
export type { Page, Row } from './core/query.js';
export type { Database, Queryable } from './db/database.js';
export { openDatabase } from './db/open.js';
export { defineExtensions, defineHooks, defineRoute } from './extensions/define.js';
export type { InputOf, RecordOf } from './extensions/record-types.js';
export type {
  AfterHookArgs,
  BeforeHookArgs,
  ExtensionsDeclaration,
  ResourceHooks,
  ResourceResponse,
  RouteDefinition,
  RouteHandlerArgs,
  RouteMethod,
  TransactionOperations,
} from './extensions/types.js';
export { buildApp, type KilnApp, type KilnAppOptions } from './http/server.js';
export type * from './model/declaration.js';
export { defineModel, defineResource, field } from './model/define.js';
export type { Model, Resource } from './model/ir.js';
export { compileOrThrow, loadModel, ModelError } from './model/load.js';
export type { Authenticator, Credentials } from './pipeline/authenticate.js';
export { type AccessDecision, type AccessPolicy, type Action, OPEN_ACCESS } from './pipeline/authorize.js';
export { ANONYMOUS, type ContextOptions, createContext, type Principal, type RequestContext } from './pipeline/context.js';
export type { FilterArg, IncludeArg, ListArgs, SelectionArgs } from './pipeline/parse.js';
export type { OperationName, RateLimitCall, RateLimiter } from './pipeline/rate-limit.js';
export { type RunningKiln, type StartOptions, startKiln } from './start.js';
