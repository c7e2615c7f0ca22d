/**
 * The operations endpoint every service exposes: Prometheus /metrics, /livez
 * (the process is alive) and /readyz (it is doing its job; the body says why not).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface ReadinessCheck {
  name: string;
  /** Undefined when ready, else the reason. */
  check(): string | undefined;
}

export interface OpsServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface OpsServerOptions {
  host: string;
  port: number;
  registry: Registry;
  readiness: ReadinessCheck[];
}

function readinessReport(checks: ReadinessCheck[]): { ready: boolean; body: string } {
  const failures = checks.flatMap((c) => {
    const reason = c.check();
    return reason === undefined ? [] : [`${c.name}: ${reason}`];
  });
  return failures.length === 0 ? { ready: true, body: "ok\n" } : { ready: false, body: failures.join("\n") + "\n" };
}

export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/metrics") {
      options.registry.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": options.registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(String(err));
        },
      );
    } else if (path === "/livez") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok\n");
    } else if (path === "/readyz") {
      const { ready, body } = readinessReport(options.readiness);
      res.writeHead(ready ? 200 : 503, { "content-type": "text/plain" });
      res.end(body);
    } else {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
