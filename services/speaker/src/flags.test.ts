import { describe, expect, it } from "vitest";
import { parseFlags } from "./flags.js";

function parse(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let stderr = "";
  const result = parseFlags(argv, env, { stdout: () => {}, stderr: (t) => (stderr += t) });
  return { result, stderr };
}

describe("parseFlags", () => {
  it("defaults to loopback listeners and takes the node name from NODE_NAME", () => {
    const { result } = parse(["--watcher", "10.0.0.1:50051"], { NODE_NAME: "node-7" });
    expect(result).toEqual({
      config: {
        nodeName: "node-7",
        watcher: "10.0.0.1:50051",
        intentFile: undefined,
        apiListen: "127.0.0.1:50052",
        httpListen: "127.0.0.1:9091",
        staleIntentTimeoutMs: undefined,
        tls: { cert: undefined, key: undefined, ca: undefined },
        logLevel: "info",
      },
    });
  });

  it("parses every flag", () => {
    const { result } = parse([
      "--node-name", "n1", "--watcher", "[::1]:50051", "--api-listen", "0.0.0.0:50052", "--http-listen", ":9091",
      "--stale-intent-timeout", "10m", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-ca", "ca.pem", "--log-level", "debug",
    ]);
    expect("config" in result && result.config).toMatchObject({ nodeName: "n1", watcher: "[::1]:50051", apiListen: "0.0.0.0:50052", staleIntentTimeoutMs: 600_000, tls: { cert: "c.pem", key: "k.pem", ca: "ca.pem" }, logLevel: "debug" });
  });

  it.each([
    [[], /exactly one of --watcher and --intent-file/],
    [["--watcher", "a:1", "--intent-file", "f"], /cannot be used with/],
    [["--watcher", "a:1"], /--node-name \(or NODE_NAME\) is required/],
    [["--intent-file", "f", "--stale-intent-timeout", "1m"], /applies to --watcher only/],
    [["--watcher", "nope", "--node-name", "n"], /is not host:port/],
    [["--intent-file", "f", "--stale-intent-timeout", "soon"], /not a duration/],
    [["--intent-file", "f", "--log-level", "loud"], /Allowed choices/],
  ])("rejects %j", (argv, message) => {
    const { result, stderr } = parse(argv);
    expect(result).toEqual({ exitCode: 1 });
    expect(stderr).toMatch(message);
  });

  it("accepts an intent file without a node name", () => {
    const { result } = parse(["--intent-file", "/etc/svcbgp/intent.yaml"]);
    expect("config" in result && result.config.intentFile).toBe("/etc/svcbgp/intent.yaml");
  });
});
