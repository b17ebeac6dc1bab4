import { StartupError } from '../config/startup-error.js';

/**
 * Why the server could not listen on HOST:PORT, as one sentence naming the setting to change; other
 * errors are returned as they are (they are defects, not something the user set).
 */
export function listenFailure(error: unknown, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return new StartupError(`port ${port} is in use by another process; stop it or set PORT to a free port`, { cause: error });
    case 'EACCES':
      return new StartupError(`port ${port} needs privileges this user does not have; set PORT to 1024 or above`, { cause: error });
    case 'EADDRNOTAVAIL':
      return new StartupError(`HOST ${host} is not an address of this machine; set HOST to one of its addresses, or 0.0.0.0 for all`, { cause: error });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StartupError(`HOST ${host} is not a known host name; set HOST to an address of this machine, or 0.0.0.0 for all`, { cause: error });
  }
  return error;
}
