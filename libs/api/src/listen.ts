/** Parsing of "host:port" listen and dial addresses, IPv6 in brackets. */

export interface HostPort {
  host: string;
  port: number;
}

/** Parses "127.0.0.1:50051", "[::1]:50051" or ":50051" (all addresses). */
export function parseHostPort(value: string, defaultHost = "127.0.0.1"): HostPort {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  if (!match) throw new Error(`"${value}" is not host:port (IPv6 in brackets, e.g. [::1]:50051)`);
  const port = Number(match[3]);
  if (port > 65535) throw new Error(`"${value}": port ${port} is out of range`);
  const host = match[1] ?? (match[2] || defaultHost);
  return { host, port };
}

/** Formats a host and port for grpc-js ("[::1]:50051" for IPv6). */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
