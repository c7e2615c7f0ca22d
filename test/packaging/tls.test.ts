/**
 * scripts/gen-tls.sh makes what the manifests mount as svcbgp-tls: a CA and a
 * certificate that works both as the watcher's server certificate (for the
 * names speakers dial) and as a client certificate, proven by a mutual TLS
 * handshake.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, createServer, type TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT, toolAvailable, type Obj } from "./support.js";

const script = join(ROOT, "scripts/gen-tls.sh");
const available = toolAvailable("scripts/gen-tls.sh", "openssl", "apt-get install openssl");

describe.runIf(available)("scripts/gen-tls.sh", () => {
  let dir = "";
  const file = (name: string) => readFileSync(join(dir, name));

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "svcbgp-tls-"));
    execFileSync("bash", [script, "--out", dir, "--days", "2", "--san", "10.0.0.5"], { stdio: "pipe", timeout: 60_000 });
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the certificate chains to the CA and is for server and client authentication", () => {
    execFileSync("openssl", ["verify", "-CAfile", join(dir, "ca.crt"), join(dir, "tls.crt")], { stdio: "pipe" });
    const text = execFileSync("openssl", ["x509", "-in", join(dir, "tls.crt"), "-noout", "-text"], { encoding: "utf8" });
    expect(text).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    for (const name of ["svcbgp-watcher.svcbgp-system.svc", "svcbgp-watcher.svcbgp-system.svc.cluster.local", "DNS:watcher", "IP Address:127.0.0.1", "IP Address:10.0.0.5"]) {
      expect(text).toContain(name);
    }
  });

  it("secret.yaml is the Secret svcbgp-tls in svcbgp-system with ca.crt, tls.crt and tls.key", () => {
    const secret = parse(file("secret.yaml").toString()) as Obj;
    expect(secret.kind).toBe("Secret");
    expect(secret.metadata).toMatchObject({ name: "svcbgp-tls", namespace: "svcbgp-system" });
    const data = secret.data as Record<string, string>;
    expect(Object.keys(data).sort()).toEqual(["ca.crt", "tls.crt", "tls.key"]);
    for (const key of Object.keys(data)) expect(Buffer.from(data[key], "base64")).toEqual(file(key));
  });

  it("completes a mutual TLS handshake as the watcher (server) and a speaker (client)", async () => {
    const [ca, cert, key] = [file("ca.crt"), file("tls.crt"), file("tls.key")];
    const server = createServer({ ca, cert, key, requestCert: true, rejectUnauthorized: true }, (socket) => {
      socket.end(socket.authorized ? "client ok" : "client rejected");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const socket: TLSSocket = connect({ host: "127.0.0.1", port, ca, cert, key, servername: "svcbgp-watcher.svcbgp-system.svc" }, () => {
          if (!socket.authorized) reject(new Error(`server not authorized: ${String(socket.authorizationError)}`));
        });
        let data = "";
        socket.on("data", (chunk) => (data += chunk.toString()));
        socket.on("end", () => resolve(data));
        socket.on("error", reject);
      });
      expect(reply).toBe("client ok");
    } finally {
      server.close();
    }
  });

  it("prints the Secret with --print and rejects unknown arguments", () => {
    const printed = execFileSync("bash", [script, "--print", "--namespace", "other"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect((parse(printed) as Obj).metadata).toMatchObject({ name: "svcbgp-tls", namespace: "other" });
    const bad = spawnSync("bash", [script, "--bogus"], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("unknown argument --bogus");
  });
});
