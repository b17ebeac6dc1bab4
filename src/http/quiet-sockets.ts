/**
 * Connections that carry no request. Node's closeIdleConnections closes keep-alive connections
 * between requests, but not one that was opened and never sent a byte (a client's spare connection,
 * a port scanner, a slowloris): graceful shutdown then waited for it until the request timeout, past
 * KILN_SHUTDOWN_TIMEOUT_MS, and the process exited 1. Tracked here, they are closed with the idle ones.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface QuietSockets {
  /** Destroys every connection with no request in flight and not upgraded (WebSockets close themselves). */
  closeQuiet(): void;
}

export function trackQuietSockets(server: Server): QuietSockets {
  const open = new Set<Socket>();
  /** Requests in flight per connection (more than one only when a client pipelines). */
  const busy = new Map<Socket, number>();
  const upgraded = new WeakSet<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      busy.delete(socket);
    });
  });
  server.on('request', (req, res) => {
    const socket = req.socket;
    busy.set(socket, (busy.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const left = (busy.get(socket) ?? 1) - 1;
      if (left > 0) busy.set(socket, left);
      else busy.delete(socket);
    });
  });
  server.on('upgrade', (req) => upgraded.add(req.socket));
  return {
    closeQuiet() {
      for (const socket of open) if (!busy.has(socket) && !upgraded.has(socket)) socket.destroy();
    },
  };
}
