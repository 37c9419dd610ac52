// What went over a connection, as the kernel and the HTTP framing have it: for tests of what a
// server queues for a client that stopped reading, and of what it wrote, chunk by chunk.
import { readFileSync } from 'node:fs';

/**
 * The send and receive queues (bytes) the kernel holds for the TCP connection from local port
 * `from` to port `to` on 127.0.0.1, from /proc/net/tcp: what one end has written that the other
 * has not read yet.
 */
export function tcpQueues(from: number, to: number): { tx: number; rx: number } | undefined {
  const hex = (port: number) => `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const row = readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .find((cols) => cols[1]?.endsWith(hex(from)) && cols[2]?.endsWith(hex(to)));
  if (!row) return undefined;
  const [tx, rx] = row[4]!.split(':').map((n) => parseInt(n, 16));
  return { tx: tx!, rx: rx! };
}

/** A chunked HTTP response's head and its body's chunks, as the server wrote them. */
export function dechunk(bytes: Buffer): { head: string; chunks: string[] } {
  const end = bytes.indexOf('\r\n\r\n');
  const chunks: string[] = [];
  for (let at = end + 4; at < bytes.length; ) {
    const line = bytes.indexOf('\r\n', at);
    const size = parseInt(bytes.toString('latin1', at, line), 16);
    if (size === 0) break;
    chunks.push(bytes.toString('utf8', line + 2, line + 2 + size));
    at = line + 2 + size + 2;
  }
  return { head: bytes.toString('latin1', 0, end), chunks };
}
