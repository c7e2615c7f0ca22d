import { describe, expect, it } from "vitest";
import type { BGPConfigurationValue } from "./bgp-configuration.js";
import type { BGPPeerValue } from "./bgp-peer.js";
import { formatIssue, validateResource, type ConfigIssueRecord } from "./validate.js";

const config = (spec: unknown, apiVersion = "projectcalico.org/v3") => ({ apiVersion, kind: "BGPConfiguration", metadata: { name: "default" }, spec });
const peer = (spec: unknown, apiVersion = "projectcalico.org/v3") => ({ apiVersion, kind: "BGPPeer", metadata: { name: "tor" }, spec });

function issues(input: unknown): ConfigIssueRecord[] {
  const result = validateResource(input);
  if (result.ok) throw new Error("expected issues");
  return result.issues;
}

function value<T>(input: unknown): T {
  const result = validateResource(input);
  if (!result.ok) throw new Error(result.issues.map(formatIssue).join("; "));
  return result.value as T;
}

describe("BGPConfiguration", () => {
  it("accepts the seed's documents under both API versions", () => {
    const seed = value<BGPConfigurationValue>(config({ serviceClusterIPs: [{ cidr: "10.49.0.0/16" }] }));
    expect(seed.serviceClusterIPs.map((c) => c.text)).toEqual(["10.49.0.0/16"]);
    expect(seed.serviceLoadBalancerAggregation).toBe("Enabled");
    expect(seed.advertisePodCIDRs).toBe(false);
    // Step 5 writes `serviceClusterIPs:` with no value: YAML null.
    const step5 = value<BGPConfigurationValue>(config({ serviceClusterIPs: null, serviceExternalIPs: [{ cidr: "192.168.3.0/24" }] }, "svcbgp.io/v1"));
    expect(step5.serviceClusterIPs).toEqual([]);
    expect(step5.serviceExternalIPs.map((c) => c.text)).toEqual(["192.168.3.0/24"]);
  });

  it("parses every field", () => {
    const v = value<BGPConfigurationValue>(
      config({
        asNumber: 65001,
        serviceLoadBalancerIPs: [{ cidr: "fd00:ff::/112" }],
        serviceLoadBalancerAggregation: "Disabled",
        communities: [{ name: "edge", value: "65001:100" }, { name: "big", value: "65001:1:2" }],
        prefixAdvertisements: [{ cidr: "10.49.0.0/16", communities: ["edge", "big", "65001:7", "no-export"] }],
        listenPort: 1179,
        advertisePodCIDRs: true,
        nodeToNodeMeshEnabled: false,
      }),
    );
    expect(v.asNumber).toBe(65001);
    expect(v.listenPort).toBe(1179);
    expect(v.prefixAdvertisements[0].communities).toEqual([
      { kind: "standard", text: "65001:100" },
      { kind: "large", text: "65001:1:2" },
      { kind: "standard", text: "65001:7" },
      { kind: "standard", text: "no-export" },
    ]);
  });

  it.each<[string, unknown, string, string]>([
    ["host bits", { serviceClusterIPs: [{ cidr: "10.49.0.1/16" }] }, "spec.serviceClusterIPs[0].cidr", '"10.49.0.1/16" has host bits set; did you mean 10.49.0.0/16?'],
    ["not a CIDR", { serviceExternalIPs: [{ cidr: "192.168.3.0" }] }, "spec.serviceExternalIPs[0].cidr", "is not a CIDR"],
    ["ASN zero", { asNumber: 0 }, "spec.asNumber", "AS number must be 1..4294967295, got 0"],
    ["ASN too big", { asNumber: 4294967296 }, "spec.asNumber", "AS number must be 1..4294967295"],
    ["ASN string", { asNumber: "64512" }, "spec.asNumber", 'got "64512"'],
    ["unknown field", { serviceClusterIP: [] }, "spec.serviceClusterIP", 'unknown field "serviceClusterIP"; did you mean "serviceClusterIPs"?'],
    ["aggregation", { serviceLoadBalancerAggregation: "On" }, "spec.serviceLoadBalancerAggregation", 'must be "Enabled" or "Disabled", got "On"'],
    ["community", { communities: [{ name: "x", value: "70000:1" }] }, "spec.communities[0].value", "is not a community"],
    ["undefined name", { prefixAdvertisements: [{ cidr: "10.0.0.0/8", communities: ["nope"] }] }, "spec.prefixAdvertisements[0].communities[0]", "neither a name"],
    ["listen port", { listenPort: 70000 }, "spec.listenPort", "listenPort must be an integer 1..65535"],
    ["bool", { advertisePodCIDRs: "yes" }, "spec.advertisePodCIDRs", 'must be true or false, got "yes"'],
  ])("rejects %s", (_name, spec, field, reason) => {
    const found = issues(config(spec));
    expect(found).toContainEqual({ resource: "BGPConfiguration/default", field, reason: expect.stringContaining(reason) });
  });

  it("rejects a wrong apiVersion and unknown top-level fields", () => {
    const found = issues({ apiVersion: "crd.projectcalico.org/v1", kind: "BGPConfiguration", metadata: { name: "default" }, spex: {} });
    expect(found.map((i) => i.field)).toEqual(expect.arrayContaining(["apiVersion", "spex"]));
  });
});

describe("BGPPeer", () => {
  it("accepts the seed's peer", () => {
    const v = value<BGPPeerValue>(peer({ peerIP: "192.168.1.1", asNumber: 64512 }));
    expect(v.peer).toEqual({ ip: expect.objectContaining({ text: "192.168.1.1", family: 4 }), port: 0 });
    expect(v.sourceAddress).toEqual({ mode: "UseNodeIP" });
    expect(v.nodeSelector).toBeUndefined();
  });

  it.each([
    ["192.168.1.1:1179", "192.168.1.1", 1179],
    ["[fd00::1]:1179", "fd00::1", 1179],
    ["fd00::1", "fd00::1", 0],
    ["[fd00::1]", "fd00::1", 0],
  ])("peerIP %s", (peerIP, ip, port) => {
    const v = value<BGPPeerValue>(peer({ peerIP, asNumber: 64512 }));
    expect(v.peer.ip.text).toBe(ip);
    expect(v.peer.port).toBe(port);
  });

  it("parses every field", () => {
    const v = value<BGPPeerValue>(
      peer(
        {
          peerIP: "10.0.0.1",
          asNumber: 65000,
          localASNumber: 65010,
          nodeSelector: "rack == 'r1'",
          password: { secretKeyRef: { name: "bgp", key: "tor" } },
          sourceAddress: "None",
          keepaliveTime: "20s",
          maxRestartTime: "2m",
          holdTime: "1m",
          ttlSecurity: 1,
          numAllowedLocalASNumbers: 2,
        },
        "svcbgp.io/v1",
      ),
    );
    expect(v).toMatchObject({
      asNumber: 65000,
      localASNumber: 65010,
      password: { secretName: "bgp", key: "tor" },
      sourceAddress: { mode: "None" },
      keepaliveSeconds: 20,
      maxRestartSeconds: 120,
      holdSeconds: 60,
      ttlSecurity: 1,
      numAllowedLocalASNumbers: 2,
    });
    expect(v.nodeSelector?.matches({ rack: "r1" })).toBe(true);
    expect(v.nodeSelector?.matches({ rack: "r2" })).toBe(false);
  });

  it.each<[string, unknown, string, string]>([
    ["bad IP", { peerIP: "192.168.1", asNumber: 1 }, "spec.peerIP", "is not an IP address"],
    ["bad port", { peerIP: "192.168.1.1:99999", asNumber: 1 }, "spec.peerIP", "port must be 1..65535"],
    ["v4 in brackets", { peerIP: "[192.168.1.1]:179", asNumber: 1 }, "spec.peerIP", "brackets are only for IPv6"],
    ["missing peerIP", { asNumber: 1 }, "spec.peerIP", "is required"],
    ["missing ASN", { peerIP: "192.168.1.1" }, "spec.asNumber", "is required"],
    ["selector", { peerIP: "192.168.1.1", asNumber: 1, nodeSelector: "rack === 'x'" }, "spec.nodeSelector", "invalid selector"],
    ["both node and selector", { peerIP: "192.168.1.1", asNumber: 1, node: "n", nodeSelector: "all()" }, "spec.nodeSelector", "cannot both be set"],
    ["duration", { peerIP: "192.168.1.1", asNumber: 1, keepaliveTime: "30" }, "spec.keepaliveTime", "is not a duration"],
    ["hold time", { peerIP: "192.168.1.1", asNumber: 1, holdTime: "2s" }, "spec.holdTime", "at least 3 seconds"],
    ["source", { peerIP: "192.168.1.1", asNumber: 1, sourceAddress: "Auto" }, "spec.sourceAddress", 'must be "UseNodeIP", "None" or an IP address'],
    ["peerSelector", { peerIP: "192.168.1.1", asNumber: 1, peerSelector: "all()" }, "spec.peerSelector", "not supported"],
    ["password", { peerIP: "192.168.1.1", asNumber: 1, password: { secretKeyRef: { name: "s" } } }, "spec.password.secretKeyRef.key", "is required"],
    ["ttl", { peerIP: "192.168.1.1", asNumber: 1, ttlSecurity: 256 }, "spec.ttlSecurity", "ttlSecurity must be an integer 0..255, got 256"],
    ["unknown", { peerIP: "192.168.1.1", asNumber: 1, peerIp: "x" }, "spec.peerIp", 'unknown field "peerIp"; did you mean "peerIP"?'],
  ])("rejects %s", (_name, spec, field, reason) => {
    expect(issues(peer(spec))).toContainEqual({ resource: "BGPPeer/tor", field, reason: expect.stringContaining(reason) });
  });
});

describe("validateResource", () => {
  it("rejects other kinds and non-objects", () => {
    expect(issues({ kind: "Service", metadata: { name: "x" } })).toEqual([{ resource: "Service/x", field: "kind", reason: 'expected BGPConfiguration or BGPPeer, got "Service"' }]);
    expect(issues("x")[0].reason).toContain("expected a resource object");
  });

  it("formats issues for logs", () => {
    expect(formatIssue({ resource: "BGPPeer/a", field: "spec.peerIP", reason: "bad" })).toBe("BGPPeer/a spec.peerIP: bad");
  });
});
