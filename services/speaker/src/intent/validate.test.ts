import { describe, expect, it } from "vitest";
import { validateIntent } from "./validate.js";
import { parseIntentText } from "./parse.js";
import { intent } from "../testing/fixtures.js";

const fields = (issues: Array<{ field: string; reason: string }>) => issues.map((i) => `${i.field}: ${i.reason}`);

describe("validateIntent", () => {
  it("accepts a good intent", () => {
    expect(
      validateIntent(
        intent({
          peers: [{ address: "192.0.2.1", asn: 64512, holdTime: 9, sourceAddress: "192.0.2.10" }, { address: "2001:db8::1", asn: 65000 }],
          routes: [{ prefix: "10.49.0.0/16", communities: ["64512:100", "no-export"], largeCommunities: ["64512:1:2"] }, { prefix: "fd00:49::1/128" }],
        }),
      ),
    ).toEqual([]);
  });

  it("names the field and the reason of each problem", () => {
    const issues = validateIntent(
      intent({
        routerId: "",
        peers: [
          { address: "192.0.2.1:179", asn: 64512 },
          { address: "192.0.2.2", asn: 64512, holdTime: 2 },
          { address: "192.0.2.2", port: 179, asn: 64512 },
          { address: "192.0.2.3", asn: 0, sourceAddress: "fd00::1" },
        ],
        routes: [{ prefix: "10.49.0.1/16" }, { prefix: "10.50.0.0/16" }, { prefix: "10.50.0.0/16" }, { prefix: "FD00::/64" }, { prefix: "10.1.0.0/16", communities: ["70000:1"], nextHop: "x" }],
      }),
    );
    expect(fields(issues)).toEqual([
      "routerId: is required when there are peers (a dotted-quad BGP identifier, usually the node's IPv4 address)",
      'routes[0].prefix: "10.49.0.1/16": host bits are set (did you mean 10.49.0.0/16?)',
      "routes[2].prefix: duplicate prefix 10.50.0.0/16 (also routes[1])",
      'routes[3].prefix: "FD00::/64" is not canonical (write fd00::/64)',
      'routes[4].nextHop: "x" is not an IP address',
      'routes[4].communities[0]: "70000:1" is not a community (asn:value with 16-bit numbers, or no-export, no-advertise, no-export-subconfed, no-peer, blackhole, graceful-shutdown)',
      'peers[0].address: "192.0.2.1:179" is not an IP address (write the port in the port field)',
      "peers[1].holdTime: 2 s is invalid (RFC 4271: 0 or at least 3)",
      "peers[2]: duplicate peer 192.0.2.2:179 (also peers[1])",
      "peers[3].asn: is required (the peer's AS number)",
      "peers[3].sourceAddress: fd00::1 is not of the same family as the peer 192.0.2.3",
    ]);
  });

  it("rejects an intent for another node", () => {
    expect(fields(validateIntent(intent({ nodeName: "node-2" }), { nodeName: "node-1" }))).toEqual(['nodeName: the intent is for node "node-2", this speaker is "node-1"']);
  });
});

describe("parseIntentText", () => {
  it("reads proto3 JSON written as YAML or JSON", () => {
    const yaml = "nodeName: node-1\nrouterId: 192.0.2.10\nlocalAsn: 64512\npeers:\n  - address: 192.0.2.1\n    asn: 64512\n    gracefulRestart: { enabled: true }\nroutes:\n  - prefix: 10.49.0.0/16\n    localPref: 200\n";
    const fromYaml = parseIntentText(yaml, "intent.yaml");
    expect(fromYaml.ok && fromYaml.intent.peers[0].gracefulRestart?.enabled).toBe(true);
    expect(fromYaml.ok && fromYaml.intent.routes[0].localPref).toBe(200);
    const fromJson = parseIntentText(JSON.stringify({ routerId: "192.0.2.10", local_asn: 64512, routes: [{ prefix: "10.49.0.0/16" }] }), "intent.json");
    expect(fromJson.ok && fromJson.intent.localAsn).toBe(64512);
  });

  it("reports decoding errors with the field", () => {
    const bad = parseIntentText("peers:\n  - address: 192.0.2.1\n    holdTime: soon\n", "i.yaml");
    expect(!bad.ok && fields(bad.issues)).toEqual(['svcbgp.v1.Peer.hold_time: expected number (uint32), got "soon"']);
    const unknown = parseIntentText("{\"routez\": []}", "i.json");
    expect(!unknown.ok && fields(unknown.issues)).toEqual(['svcbgp.v1.NodeIntent: key "routez" is unknown']);
    const syntax = parseIntentText("{", "i.json");
    expect(!syntax.ok && syntax.issues[0].field).toBe("(file)");
    const empty = parseIntentText("", "i.yaml");
    expect(!empty.ok && fields(empty.issues)).toEqual(["(file): the file is empty"]);
  });
});
