/**
 * Plain JSON requests to the Kubernetes API with a KubeConfig's transport and
 * credentials. The informers' lists go through here rather than the generated
 * typed clients because those deserialize into model objects (timestamps
 * become Dates, CRDs need other calls), while watch events arrive as plain
 * JSON: the sink must see one shape, the one the API serves.
 */
import http from "node:http";
import https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";

export class KubeApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
    this.name = "KubeApiError";
  }

  /** client-node's ListWatch tells 410 Gone apart by `code` or `statusCode`. */
  get code(): number {
    return this.statusCode;
  }
}

export interface KubeRequest {
  method?: string;
  /** API path, e.g. /api/v1/services. */
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  signal?: AbortSignal;
  /** Socket inactivity timeout; a list that stalls this long fails (default 60 s). */
  timeoutMs?: number;
}

export async function kubeRequest<T = unknown>(kc: KubeConfig, request: KubeRequest): Promise<T> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("kubeconfig has no current cluster");
  // Same URL construction as client-node's Watch, so a server URL with a path prefix works for both.
  const url = new URL(cluster.server + request.path);
  for (const [key, value] of Object.entries(request.query ?? {})) {
    if (value !== undefined) url.searchParams.set(key, String(value));
  }
  const payload = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body));
  const options: https.RequestOptions = {
    method: request.method ?? "GET",
    headers: {
      Accept: "application/json",
      ...(payload ? { "Content-Type": "application/json", "Content-Length": String(payload.length) } : {}),
    },
  };
  await kc.applyToHTTPSOptions(options);
  const transport = url.protocol === "https:" ? https : http;
  return new Promise<T>((resolve, reject) => {
    const req = transport.request(url, { ...options, signal: request.signal, timeout: request.timeoutMs ?? 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const status = res.statusCode ?? 0;
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        if (status >= 200 && status < 300) {
          if (body === undefined) reject(new Error(`${options.method} ${url.pathname}: response is not JSON`));
          else resolve(body as T);
          return;
        }
        const st = (body ?? {}) as { message?: string; reason?: string };
        reject(new KubeApiError(status, `${options.method} ${url.pathname}: ${status} ${st.message ?? (http.STATUS_CODES[status] || "error")}`, st.reason));
      });
    });
    req.on("timeout", () => req.destroy(new Error(`${options.method} ${url.pathname}: no response for ${request.timeoutMs ?? 60_000} ms`)));
    req.on("error", reject);
    req.end(payload);
  });
}
