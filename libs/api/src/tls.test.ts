import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { SpeakerService, channelCredentials, createClient, registration, serve, type RunningServer } from "./index.js";

/** Makes a CA, a server certificate for 127.0.0.1/localhost and a client certificate, with openssl. */
function makePki(dir: string): void {
  const run = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=svcbgp-test-ca");
  writeFileSync(join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  for (const name of ["server", "client"]) {
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    const ext = name === "server" ? ["-extfile", "server.ext"] : [];
    run("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.crt`, "-days", "1", ...ext);
  }
}

let dir: string;
let server: RunningServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "svcbgp-tls-"));
  makePki(dir);
  server = await serve(
    "127.0.0.1:0",
    [registration(SpeakerService, { listPeers: () => ({ peers: [] }), listRoutes: async function* () {}, watchEvents: async function* () {} })],
    { tls: { cert: join(dir, "server.crt"), key: join(dir, "server.key"), ca: join(dir, "ca.crt") } },
  );
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("mTLS", () => {
  it("accepts a client with a certificate from the CA", async () => {
    const client = createClient(SpeakerService, server.address, {
      credentials: channelCredentials({ ca: join(dir, "ca.crt"), cert: join(dir, "client.crt"), key: join(dir, "client.key") }),
    });
    await expect(client.listPeers({})).resolves.toMatchObject({ peers: [] });
    client.close();
  });

  it("refuses a client without a certificate", async () => {
    const client = createClient(SpeakerService, server.address, { credentials: channelCredentials({ ca: join(dir, "ca.crt") }) });
    await expect(client.listPeers({}, { deadline: 5000 })).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    client.close();
  });

  it("refuses a plaintext client", async () => {
    const client = createClient(SpeakerService, server.address);
    await expect(client.listPeers({}, { deadline: 5000 })).rejects.toHaveProperty("code");
    client.close();
  });
});
