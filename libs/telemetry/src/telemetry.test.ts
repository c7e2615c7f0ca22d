import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { Registry, Gauge } from "prom-client";
import { createLogger, startOpsServer } from "./index.js";

describe("logger", () => {
  it("writes JSON lines and redacts passwords wherever they appear", async () => {
    const sink = new PassThrough();
    const lines: string[] = [];
    sink.on("data", (chunk: Buffer) => lines.push(...chunk.toString().trim().split("\n")));
    const log = createLogger({ name: "test", destination: sink });
    log.child({ peer: "192.0.2.1" }).info({ peer: { address: "192.0.2.1", password: "hunter2" } }, "connecting");
    log.info({ password: "hunter2" }, "top level");
    await new Promise((resolve) => setImmediate(resolve));
    const text = lines.join("\n");
    expect(text).not.toContain("hunter2");
    const first = JSON.parse(lines[0]);
    expect(first).toMatchObject({ name: "test", level: "info", msg: "connecting", peer: { password: "[redacted]" } });
  });
});

describe("ops server", () => {
  it("serves metrics, liveness and readiness with the failing check's reason", async () => {
    const registry = new Registry();
    new Gauge({ name: "svcbgp_test_gauge", help: "test", registers: [registry] }).set(3);
    let watcherReason: string | undefined = "watcher not connected";
    const ops = await startOpsServer({ host: "127.0.0.1", port: 0, registry, readiness: [{ name: "watcher", check: () => watcherReason }] });
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${ops.port}${path}`);
      return { status: res.status, body: await res.text() };
    };
    try {
      expect((await get("/metrics")).body).toContain("svcbgp_test_gauge 3");
      expect(await get("/livez")).toEqual({ status: 200, body: "ok\n" });
      expect(await get("/readyz")).toEqual({ status: 503, body: "watcher: watcher not connected\n" });
      watcherReason = undefined;
      expect((await get("/readyz")).status).toBe(200);
      expect((await get("/nope")).status).toBe(404);
    } finally {
      await ops.close();
    }
  });
});
