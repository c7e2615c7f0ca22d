import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  GrpcError,
  IntentService,
  NodeIntentSchema,
  RibTable,
  RouteKind,
  SessionState,
  SpeakerService,
  registration,
  serve,
  type ListRoutesRequest,
  type RunningServer,
} from "@svcbgp/api";
import { comparePrefixText } from "@svcbgp/config";
import { runCli } from "./cli.js";
import { formatAge } from "./table.js";

const intent = create(NodeIntentSchema, {
  nodeName: "node-1",
  routerId: "192.168.1.10",
  localAsn: 64512,
  peers: [
    { address: "192.168.1.1", asn: 64512, sourceAddress: "192.168.1.10", gracefulRestart: { enabled: true, restartTime: 120 } },
    { address: "192.168.1.2", asn: 64512, password: "s3cret-from-a-Secret" },
  ],
  routes: [
    { prefix: "10.49.62.131/32", reasons: [{ source: "default/nginx", kind: RouteKind.CLUSTER_IP }] },
    { prefix: "10.49.0.0/16", communities: ["64512:100"], reasons: [{ source: "default", kind: RouteKind.CLUSTER_IP_RANGE }] },
  ],
});

let server: RunningServer;
const ribRequests: ListRoutesRequest[] = [];

beforeAll(async () => {
  server = await serve("127.0.0.1:0", [
    registration(IntentService, {
      getIntent: (req) => {
        if (req.nodeName !== "node-1") throw new GrpcError(grpc.status.NOT_FOUND, `no intent for node ${req.nodeName}`);
        return { revision: 3n, intent };
      },
      listNodes: () => ({ nodes: [{ nodeName: "node-1", revision: 3n, routeCount: 2, peerCount: 1, watchers: 1 }] }),
      explainService: (req) =>
        req.name === "nginx"
          ? {
              found: true,
              ips: [
                {
                  ip: "10.49.62.131",
                  kind: RouteKind.CLUSTER_IP,
                  allowedBy: "10.49.0.0/16",
                  nodes: [
                    { nodeName: "node-1", advertisedPrefix: "10.49.62.131/32", reason: "externalTrafficPolicy Local: local ready endpoint" },
                    { nodeName: "node-3", advertisedPrefix: "10.49.0.0/16", reason: "externalTrafficPolicy Local: no local ready endpoint; covered by 10.49.0.0/16" },
                  ],
                },
                { ip: "203.0.113.9", kind: RouteKind.EXTERNAL_IP, rejectedReason: "not in serviceExternalIPs" },
              ],
            }
          : { found: false },
      watchIntent: async function* () {},
    }),
    registration(SpeakerService, {
      listPeers: () => ({
        peers: [
          {
            address: "192.168.1.1",
            asn: 64512,
            state: SessionState.ESTABLISHED,
            // 3h30m30s ago: the age prints as "3h30m" however long the call takes (up to 30 s), unlike a seconds-range age.
            stateSince: timestampFromDate(new Date(Date.now() - (3 * 3600 + 30 * 60 + 30) * 1000)),
            negotiatedHoldTime: 9,
            prefixesSent: 2,
          },
        ],
      }),
      listRoutes: async function* (req) {
        ribRequests.push(req);
        yield { routes: [{ table: req.table, peer: "192.168.1.1", prefix: "10.49.0.0/16", nextHop: "192.168.1.10", localPref: 100 }] };
        yield { routes: [{ table: req.table, peer: "192.168.1.1", prefix: "10.49.62.131/32", nextHop: "192.168.1.10", stale: true }] };
      },
      watchEvents: async function* () {},
    }),
  ]);
});

afterAll(() => server?.close());

async function ctl(...args: string[]) {
  let stdout = "";
  let stderr = "";
  const status = await runCli(["--watcher", server.address, "--speaker", server.address, ...args], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
  });
  return { status, stdout, stderr };
}

describe("svcbgpctl against the watcher", () => {
  it("prints a node's routes as a table", async () => {
    const { status, stdout } = await ctl("routes", "--node", "node-1");
    expect(status).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^PREFIX\s+NEXT-HOP\s+COMMUNITIES\s+LOCAL-PREF\s+REASONS$/);
    expect(lines[1]).toMatch(/^10\.49\.0\.0\/16\s+self\s+64512:100\s+-\s+cluster-ip-range:default$/);
    expect(lines[2]).toMatch(/^10\.49\.62\.131\/32\s+self\s+-\s+-\s+cluster-ip:default\/nginx$/);
  });

  it("prints routes as a proto3 JSON array sorted by prefix", async () => {
    const { status, stdout } = await ctl("-o", "json", "routes", "--node", "node-1");
    expect(status).toBe(0);
    const routes = JSON.parse(stdout);
    expect(routes.map((r: { prefix: string }) => r.prefix)).toEqual(["10.49.0.0/16", "10.49.62.131/32"]);
    expect(routes[0]).toEqual({ prefix: "10.49.0.0/16", communities: ["64512:100"], reasons: [{ source: "default", kind: "ROUTE_KIND_CLUSTER_IP_RANGE" }] });
  });

  it("prints the intent as YAML", async () => {
    const { stdout } = await ctl("-o", "yaml", "intent", "--node", "node-1");
    expect(stdout).toContain("nodeName: node-1");
    expect(stdout).toContain("- address: 192.168.1.1");
  });

  it("never prints a peer password", async () => {
    for (const output of ["json", "yaml", "table"]) {
      const { status, stdout } = await ctl("-o", output, "intent", "--node", "node-1");
      expect(status).toBe(0);
      expect(stdout).toContain("192.168.1.2");
      expect(stdout).not.toContain("s3cret");
      if (output !== "table") expect(stdout).toContain("<redacted>");
    }
  });

  it("explains each IP per node, including rejected IPs", async () => {
    const { status, stdout } = await ctl("explain", "default/nginx");
    expect(status).toBe(0);
    expect(stdout).toMatch(/10\.49\.62\.131\s+cluster-ip\s+10\.49\.0\.0\/16\s+node-1\s+10\.49\.62\.131\/32\s+externalTrafficPolicy Local: local ready endpoint/);
    expect(stdout).toMatch(/203\.0\.113\.9\s+external-ip\s+-\s+\(all\)\s+no\s+not in serviceExternalIPs/);
  });

  it("says plainly when a service or node is unknown", async () => {
    expect(await ctl("explain", "default/nope")).toMatchObject({ status: 1, stderr: "svcbgpctl: service default/nope not found by the watcher\n" });
    expect(await ctl("routes", "--node", "node-9")).toMatchObject({ status: 1, stderr: "svcbgpctl: no intent for node node-9\n" });
    expect(await ctl("explain", "nginx")).toMatchObject({ status: 1, stderr: 'svcbgpctl: "nginx" is not namespace/name\n' });
  });
});

describe("svcbgpctl against a speaker", () => {
  it("prints peers with state, age and prefix counts", async () => {
    const { stdout } = await ctl("peers");
    expect(stdout.split("\n")[1]).toMatch(/^192\.168\.1\.1\s+64512\s+Established\s+3h30m\s+9s\s+2\s+0\s+-$/);
    // The seconds and minutes ranges, without a clock.
    expect([65_999, 125_000, 7_200_000].map(formatAge)).toEqual(["65s", "2m5s", "2h"]);
  });

  it("passes rib filters through and prints every streamed batch", async () => {
    const { stdout } = await ctl("rib", "--table", "adj-out", "--peer", "192.168.1.1", "--prefix", "10.49.0.0/16", "--family", "ipv4");
    expect(ribRequests.at(-1)).toMatchObject({ table: RibTable.ADJ_OUT, peer: "192.168.1.1", prefix: "10.49.0.0/16", family: 1 });
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/^adj-out\s+192\.168\.1\.1\s+10\.49\.62\.131\/32\s+192\.168\.1\.10\s+-\s+-\s+-\s+stale$/);
  });

  it("reports an unreachable speaker with its address", async () => {
    let stderr = "";
    const status = await runCli(["--speaker", "127.0.0.1:1", "peers"], { stdout: () => {}, stderr: (t) => (stderr += t) });
    expect(status).toBe(1);
    expect(stderr).toMatch(/^svcbgpctl: cannot reach the speaker at 127\.0\.0\.1:1: /);
  });

  it("rejects an unknown output format", async () => {
    const { status, stderr } = await ctl("-o", "xml", "peers");
    expect(status).not.toBe(0);
    expect(stderr).toContain("Allowed choices are table, json, yaml");
  });
});

describe("route order (libs/config comparePrefixText, which `routes` sorts with)", () => {
  it("orders IPv4 before IPv6, then by address and length", () => {
    const sorted = ["fd00::1/128", "10.49.62.131/32", "10.49.0.0/16", "9.0.0.0/8", "fd00::/64", "10.49.0.0/24"].sort(comparePrefixText);
    expect(sorted).toEqual(["9.0.0.0/8", "10.49.0.0/16", "10.49.0.0/24", "10.49.62.131/32", "fd00::/64", "fd00::1/128"]);
  });
});
