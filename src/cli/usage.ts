export const COMMANDS = {
  serve: 'Serve the REST API, docs and health checks for a model',
  dev: 'Serve, and restart when the model file changes',
  check: 'Validate a model and print its API surface (resources, routes, fields)',
  openapi: 'Print the OpenAPI 3.1 document of a model',
} as const;

export type CommandName = keyof typeof COMMANDS;

const OPTIONS: Record<CommandName, string> = {
  serve: `  --model PATH    model file (.ts, .js, .yaml, .json); default kiln.config.ts or $KILN_MODEL
  --config PATH   settings file; environment variables override it
  --port N        port to listen on (overrides PORT)
  --seed PATH     JSON records to load when the database is empty`,
  dev: `  --model PATH    model file; default kiln.config.ts or $KILN_MODEL
  --config PATH   settings file
  --port N        port to listen on
  --seed PATH     JSON records to load when the database is empty`,
  check: `  --model PATH    model file; default kiln.config.ts or $KILN_MODEL`,
  openapi: `  --model PATH    model file; default kiln.config.ts or $KILN_MODEL
  --config PATH   settings file (prefix, limits, public URL)`,
};

export function generalUsage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, text]) => `  ${name.padEnd(width)}  ${text}`);
  return `Usage: kiln <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "kiln <command> --help" for the options of a command.`;
}

export function commandUsage(command: CommandName): string {
  return `Usage: kiln ${command} [options]\n\n${COMMANDS[command]}.\n\nOptions:\n${OPTIONS[command]}\n  -h, --help      show this help`;
}
