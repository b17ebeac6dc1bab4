/**
 * A TCP proxy in front of the test Redis that a test can take down and bring back on the same port:
 * an outage as the server sees it (connections reset, then refused), without touching Redis itself.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  port = 0;

  constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Listens (again) on the port of the first start. */
  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = createConnection(this.#target);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((listening, failed) => server.once('error', failed).listen(this.port, '127.0.0.1', () => listening()));
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  /** Refuses new connections and resets the open ones. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    if (server) await new Promise<void>((closed) => server.close(() => closed()));
  }
}
