/** Kiln's public API. Everything not exported here is internal. */
export type { Settings } from './config/settings.js';
export { ConfigError, defineSettings, resolveSettings, SETTINGS } from './config/settings.js';
export { ERRORS, type ErrorCode, type FieldError, KilnError } from './core/errors.js';
export type { Database, Queryable } from './db/database.js';
export { openDatabase } from './db/open.js';
export { buildApp, type KilnApp, type KilnAppOptions } from './http/server.js';
export type * from './model/declaration.js';
export { defineModel, defineResource, field } from './model/define.js';
export type { Model } from './model/ir.js';
export { compileOrThrow, loadModel, ModelError } from './model/load.js';
export { type RunningKiln, type StartOptions, startKiln } from './start.js';
