/**
 * TLS and mTLS for our gRPC servers and clients. Without files everything is
 * plaintext, which is only appropriate on loopback or inside a trusted network.
 */
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";

/** PEM file paths. With `ca` on a server, clients must present a certificate signed by it (mTLS). */
export interface TlsFiles {
  cert?: string;
  key?: string;
  ca?: string;
}

function read(path: string | undefined): Buffer | null {
  return path ? readFileSync(path) : null;
}

export function isTlsConfigured(tls: TlsFiles | undefined): boolean {
  return Boolean(tls && (tls.cert || tls.key || tls.ca));
}

export function serverCredentials(tls?: TlsFiles): grpc.ServerCredentials {
  if (!isTlsConfigured(tls)) return grpc.ServerCredentials.createInsecure();
  if (!tls?.cert || !tls.key) throw new Error("TLS for a server needs both a certificate and a key");
  const ca = read(tls.ca);
  return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: readFileSync(tls.cert), private_key: readFileSync(tls.key) }], ca !== null);
}

export function channelCredentials(tls?: TlsFiles): grpc.ChannelCredentials {
  if (!isTlsConfigured(tls)) return grpc.credentials.createInsecure();
  if (Boolean(tls?.cert) !== Boolean(tls?.key)) throw new Error("a client certificate needs its key, and a key its certificate");
  return grpc.credentials.createSsl(read(tls?.ca), read(tls?.key), read(tls?.cert));
}
