import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "@svcbgp/telemetry";
import { SpeakerController } from "../controller.js";
import { FileIntentSource } from "./file-source.js";
import { fakeSessionFactory } from "../testing/fake-session.js";
import { eventually } from "../../../../test/support/wait.js";

const yamlIntent = (routes: string[], extra = "") =>
  `nodeName: node-1\nrouterId: 192.0.2.10\nlocalAsn: 64512\npeers:\n  - address: 192.0.2.1\n    asn: 64512\n${extra}routes:\n${routes.map((p) => `  - prefix: ${p}\n`).join("")}`;

let dir: string;
let logLines: Array<Record<string, unknown>>;
let source: FileIntentSource | undefined;

/** TCP-MD5 counts as available (fake sessions need no addon) unless `tcpMd5Unavailable` says why not. */
function setup(path: string, pollMs = 50, tcpMd5Unavailable?: string) {
  const sink = new PassThrough();
  sink.on("data", (chunk: Buffer) => logLines.push(...chunk.toString().trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>)));
  const logger = createLogger({ name: "test", destination: sink });
  const fakes = fakeSessionFactory();
  const controller = new SpeakerController({ sessionFactory: fakes.factory, logger, tcpMd5Unavailable: () => tcpMd5Unavailable });
  source = new FileIntentSource({ path, sink: controller, logger, nodeName: "node-1", debounceMs: 20, pollMs });
  return { fakes, controller, source };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "speaker-file-"));
  logLines = [];
});

afterEach(async () => {
  await source?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("FileIntentSource", () => {
  it("loads the file, then applies only what an edit changed", async () => {
    const path = join(dir, "intent.yaml");
    await writeFile(path, yamlIntent(["10.49.0.0/16", "192.168.3.0/24"]));
    const { fakes, controller, source } = setup(path);
    await source.start();
    expect(controller.intentRoutes().map((r) => r.prefix)).toEqual(["10.49.0.0/16", "192.168.3.0/24"]);
    await writeFile(path, yamlIntent(["10.49.0.0/16", "192.168.4.0/24"]));
    await eventually(() => expect(controller.intentRoutes().map((r) => r.prefix)).toEqual(["10.49.0.0/16", "192.168.4.0/24"]));
    expect(fakes.sessions).toHaveLength(1);
    expect(fakes.sessions[0].routeCalls()).toEqual([
      { upserts: ["10.49.0.0/16", "192.168.3.0/24"], withdrawals: [] },
      { upserts: ["192.168.4.0/24"], withdrawals: ["192.168.3.0/24"] },
    ]);
  });

  it("follows an atomic rename-replace", async () => {
    const path = join(dir, "intent.json");
    await writeFile(path, JSON.stringify({ routerId: "192.0.2.10", localAsn: 64512, routes: [{ prefix: "10.49.0.0/16" }] }));
    const { controller, source } = setup(path, 60_000); // no polling: the directory watch must see it
    await source.start();
    const tmp = join(dir, ".intent.json.tmp");
    await writeFile(tmp, JSON.stringify({ routerId: "192.0.2.10", localAsn: 64512, routes: [{ prefix: "10.50.0.0/16" }] }));
    await rename(tmp, path);
    await eventually(() => expect(controller.intentRoutes().map((r) => r.prefix)).toEqual(["10.50.0.0/16"]));
  });

  it("follows a Kubernetes ConfigMap update (..data symlink swap)", async () => {
    await mkdir(join(dir, "..2024_1"));
    await writeFile(join(dir, "..2024_1", "intent.yaml"), yamlIntent(["10.49.0.0/16"]));
    await symlink("..2024_1", join(dir, "..data"));
    await symlink("..data/intent.yaml", join(dir, "intent.yaml"));
    const { controller, source } = setup(join(dir, "intent.yaml"), 60_000);
    await source.start();
    expect(controller.intentRoutes().map((r) => r.prefix)).toEqual(["10.49.0.0/16"]);
    await mkdir(join(dir, "..2024_2"));
    await writeFile(join(dir, "..2024_2", "intent.yaml"), yamlIntent(["10.50.0.0/16"]));
    await symlink("..2024_2", join(dir, "..data_tmp"));
    await rename(join(dir, "..data_tmp"), join(dir, "..data"));
    await eventually(() => expect(controller.intentRoutes().map((r) => r.prefix)).toEqual(["10.50.0.0/16"]));
  });

  it("keeps the last good intent when the file becomes invalid, and logs field and reason", async () => {
    const path = join(dir, "intent.yaml");
    await writeFile(path, yamlIntent(["10.49.0.0/16"]));
    const { fakes, controller, source } = setup(path);
    await source.start();
    await writeFile(path, yamlIntent(["10.49.0.0/16", "10.50.0.1/16"], "    holdTime: 2\n"));
    // writeFile truncates before it writes: a read in between sees an empty file ("the file is empty"), so wait for this error, not any.
    await eventually(() =>
      expect(source.status().lastError).toBe('routes[1].prefix: "10.50.0.1/16": host bits are set (did you mean 10.50.0.0/16?); peers[0].holdTime: 2 s is invalid (RFC 4271: 0 or at least 3)'),
    );
    const line = logLines.filter((l) => String(l.msg).startsWith("invalid intent file")).at(-1);
    expect(line).toMatchObject({ level: "error", issues: [{ field: "routes[1].prefix" }, { field: "peers[0].holdTime", reason: "2 s is invalid (RFC 4271: 0 or at least 3)" }] });
    expect(controller.intentRoutes().map((r) => r.prefix)).toEqual(["10.49.0.0/16"]);
    expect(fakes.sessions[0].routeCalls()).toHaveLength(1);
    expect(fakes.sessions[0].stopped).toBe(false);

    // Fixing it applies the difference from the last good intent.
    await writeFile(path, yamlIntent(["10.49.0.0/16", "10.50.0.0/16"]));
    await eventually(() => expect(controller.intentRoutes()).toHaveLength(2));
    expect(source.status().lastError).toBeUndefined();
    expect(fakes.sessions[0].routeCalls().at(-1)).toEqual({ upserts: ["10.50.0.0/16"], withdrawals: [] });
  });

  it("keeps the intent when the file is deleted, and waits for it when missing at start", async () => {
    const path = join(dir, "intent.yaml");
    const { controller, source } = setup(path);
    await source.start();
    expect(controller.hasIntent).toBe(false);
    expect(source.status().lastError).toMatch(/cannot read .*ENOENT/);
    await writeFile(path, yamlIntent(["10.49.0.0/16"]));
    await eventually(() => expect(controller.hasIntent).toBe(true));
    await rm(path);
    await eventually(() => expect(source.status().lastError).toMatch(/ENOENT/));
    expect(controller.intentRoutes().map((r) => r.prefix)).toEqual(["10.49.0.0/16"]);
  });

  it("without TCP-MD5, refuses a peer with a password but connects the others", async () => {
    const path = join(dir, "intent.yaml");
    await writeFile(path, `${yamlIntent(["10.49.0.0/16"])}`.replace("peers:\n", "peers:\n  - address: 192.0.2.7\n    asn: 64512\n    password: hunter2\n"));
    const { fakes, controller, source } = setup(path, 50, "no addon in this test");
    await source.start();
    expect(fakes.sessions.map((s) => s.options.peerAddress)).toEqual(["192.0.2.1"]);
    expect(controller.peers().find((p) => p.key === "192.0.2.7:179")?.refused).toMatch(/^TCP-MD5 unavailable: no addon in this test/);
    expect(JSON.stringify(logLines)).not.toContain("hunter2");
    expect(logLines.some((l) => l.level === "error" && String(l.msg).includes("TCP-MD5 unavailable"))).toBe(true);
  });

  it("with TCP-MD5, connects a peer with a password, which no log line shows", async () => {
    const path = join(dir, "intent.yaml");
    await writeFile(path, `${yamlIntent(["10.49.0.0/16"])}`.replace("peers:\n", "peers:\n  - address: 192.0.2.7\n    asn: 64512\n    password: hunter2\n"));
    const { fakes, controller, source } = setup(path);
    await source.start();
    expect(fakes.sessions.map((s) => [s.options.peerAddress, s.options.password])).toEqual([
      ["192.0.2.7", "hunter2"],
      ["192.0.2.1", undefined],
    ]);
    expect(controller.peers().every((p) => p.refused === undefined)).toBe(true);
    expect(JSON.stringify(logLines)).not.toContain("hunter2");
  });
});
