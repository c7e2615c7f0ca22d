/**
 * Starts a grpc-js server with our services plus reflection and health, the
 * way every svcbgp service exposes its API.
 */
import * as grpc from "@grpc/grpc-js";
import type { DescService } from "@bufbuild/protobuf";
import { addService, type ServiceImpl } from "./server.js";
import { addReflection } from "./reflection.js";
import { addHealth, type Health } from "./health.js";
import { serverCredentials, type TlsFiles } from "./tls.js";
import { formatHostPort, parseHostPort } from "./listen.js";

/** A service and its implementation, as one registration. */
export interface Registration {
  service: DescService;
  register(server: grpc.Server): void;
}

export function registration<S extends DescService>(service: S, impl: ServiceImpl<S>): Registration {
  return { service, register: (server) => addService(server, service, impl) };
}

export interface RunningServer {
  readonly server: grpc.Server;
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** "host:port" clients can dial. */
  readonly address: string;
  readonly health: Health;
  /** Graceful shutdown, forced after `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

export interface ServeOptions {
  tls?: TlsFiles;
  serverOptions?: grpc.ServerOptions;
}

export async function serve(listen: string, registrations: Registration[], options: ServeOptions = {}): Promise<RunningServer> {
  const { host, port } = parseHostPort(listen);
  const server = new grpc.Server(options.serverOptions);
  for (const r of registrations) r.register(server);
  const services = registrations.map((r) => r.service);
  addReflection(server, services);
  const health = addHealth(server, services.map((s) => s.typeName));
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(formatHostPort(host, port), serverCredentials(options.tls), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const close = (graceMs = 2000) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, graceMs);
      timer.unref();
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  return { server, port: bound, address: formatHostPort(host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host, bound), health, close };
}
