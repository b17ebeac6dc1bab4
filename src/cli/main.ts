import { parseArgs } from 'node:util';
import { ConfigError } from '../config/settings.js';
import { ModelError } from '../model/load.js';
import { SchemaMismatchError } from '../sql/ensure-schema.js';
import { runCheck } from './check.js';
import { runOpenapi } from './openapi.js';
import { runDev, runServe } from './serve.js';
import { COMMANDS, type CommandName, commandUsage, generalUsage } from './usage.js';

export interface CliOptions {
  model: string;
  config?: string;
  port?: number;
  seed?: string;
}

const FLAGS = {
  model: { type: 'string' },
  config: { type: 'string' },
  port: { type: 'string' },
  seed: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const ALLOWED: Record<CommandName, readonly string[]> = {
  serve: ['model', 'config', 'port', 'seed', 'help'],
  dev: ['model', 'config', 'port', 'seed', 'help'],
  check: ['model', 'help'],
  openapi: ['model', 'config', 'help'],
};

/** Runs the CLI and returns the exit code. Errors a user can fix print one clear message, never a stack. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(generalUsage());
    return command === undefined ? 1 : 0;
  }
  if (!(command in COMMANDS)) {
    console.error(`kiln: unknown command "${command}"\n\n${generalUsage()}`);
    return 2;
  }
  const name = command as CommandName;
  let values: { [K in keyof typeof FLAGS]?: K extends 'help' ? boolean : string };
  try {
    ({ values } = parseArgs({ args: rest, options: FLAGS, strict: true, allowPositionals: false }));
    const unknown = Object.keys(values).find((flag) => !ALLOWED[name].includes(flag));
    if (unknown) throw new Error(`Unknown option '--${unknown}'`);
  } catch (error) {
    console.error(`kiln ${name}: ${(error as Error).message.split('.')[0]}\n\n${commandUsage(name)}`);
    return 2;
  }
  if (values.help) {
    console.log(commandUsage(name));
    return 0;
  }
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    console.error(`kiln ${name}: --port must be a whole number from 0 to 65535\n\n${commandUsage(name)}`);
    return 2;
  }
  const options: CliOptions = { model: values.model ?? process.env.KILN_MODEL ?? 'kiln.config.ts', config: values.config, port, seed: values.seed };
  try {
    switch (name) {
      case 'serve':
        return await runServe(options);
      case 'dev':
        return await runDev(options);
      case 'check':
        return await runCheck(options);
      case 'openapi':
        return await runOpenapi(options);
    }
  } catch (error) {
    if (error instanceof ModelError || error instanceof ConfigError || error instanceof SchemaMismatchError) {
      console.error(`kiln ${name}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
