/**
 * The svcbgp.io/v1 CRDs: their schemas are structural (what the API server
 * requires), and validate like the API server would. Every BGPConfiguration
 * and BGPPeer in examples/ (svcbgp.io/v1 and projectcalico.org/v3: the same
 * spec shape) and in docs/deploy.md passes; malformed ones fail. The
 * watcher's own validation (libs/config) agrees on every case, so a resource
 * the API server admits is one the watcher acts on, and the other way round.
 *
 * ajv stands in for the API server: null fields are pruned first (the server
 * prunes nulls of non-nullable fields), and objects with declared properties
 * are closed (additionalProperties: false), which is what the server's strict
 * field validation (kubectl's default) does with unknown fields.
 */
import { Ajv, type ValidateFunction } from "ajv";
import ajvFormats, { type FormatsPlugin } from "ajv-formats";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { validateResource } from "@svcbgp/config";
import { ROOT, YAML_FILE, codeBlocks, filesUnder, isObj, loadYamlDocs, rel, type Obj } from "./support.js";

type Schema = Record<string, unknown>;

const crdFiles = filesUnder("deploy/kubernetes/crds", YAML_FILE);
const crds = crdFiles.flatMap((file) => loadYamlDocs(file).map((doc) => ({ file, crd: doc.value as Obj })));

function crdFor(kind: string): { crd: Obj; version: Obj; schema: Schema } {
  const found = crds.find(({ crd }) => ((crd.spec as Obj).names as Obj).kind === kind);
  if (!found) throw new Error(`no CRD for ${kind}`);
  const version = ((found.crd.spec as Obj).versions as Obj[]).find((v) => v.storage === true)!;
  return { crd: found.crd, version, schema: (version.schema as Obj).openAPIV3Schema as Schema };
}

/** Kubernetes' structural-schema rules (a subset: what a hand-written schema can get wrong), as messages. */
function structuralProblems(schema: Schema, path = ""): string[] {
  const problems: string[] = [];
  const forbidden = ["$ref", "$schema", "definitions", "dependencies", "patternProperties", "additionalItems", "uniqueItems", "id"];
  for (const key of forbidden) if (key in schema) problems.push(`${path || "/"}: ${key} is not allowed in a CRD schema`);
  const intOrString = schema["x-kubernetes-int-or-string"] === true;
  const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true;
  if (!schema.type && !intOrString && !preserve) problems.push(`${path || "/"}: no type`);
  if (schema.properties && schema.additionalProperties !== undefined) problems.push(`${path}: properties and additionalProperties together`);
  if (schema.type === "array" && !isObj(schema.items)) problems.push(`${path}: an array needs one items schema`);
  if (typeof schema.pattern === "string") {
    // Patterns run in Go's RE2: no lookarounds, no backreferences.
    if (/\(\?[=!<]|\\[1-9]/.test(schema.pattern)) problems.push(`${path}: pattern is not RE2`);
  }
  for (const required of (schema.required as string[] | undefined) ?? []) {
    if (!isObj(schema.properties) || !(required in schema.properties)) problems.push(`${path}: required ${required} is not a property`);
  }
  if (isObj(schema.properties)) {
    for (const [name, sub] of Object.entries(schema.properties)) problems.push(...structuralProblems(sub as Schema, `${path}/${name}`));
  }
  if (isObj(schema.items)) problems.push(...structuralProblems(schema.items, `${path}[]`));
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    for (const sub of (schema[key] as Schema[] | undefined) ?? []) {
      // Inside the value validations, no type/properties/items may be (re)specified.
      for (const k of ["type", "properties", "items", "additionalProperties", "default", "nullable", "description"]) {
        if (k in sub) problems.push(`${path}: ${key} may not set ${k}`);
      }
    }
  }
  return problems;
}

/** The CRD schema as the API server applies it, for ajv: unknown fields rejected. */
function closed(schema: Schema): Schema {
  const copy: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "properties" && isObj(value)) copy.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, closed(v as Schema)]));
    else if (key === "items" && isObj(value)) copy.items = closed(value);
    else copy[key] = value;
  }
  if (isObj(schema.properties) && schema.additionalProperties === undefined && schema["x-kubernetes-preserve-unknown-fields"] !== true) {
    copy.additionalProperties = false;
  }
  return copy;
}

/** The API server prunes null values of non-nullable fields before validating. */
function pruneNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pruneNulls);
  if (!isObj(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, pruneNulls(v)]));
}

const ajv = new Ajv({ allErrors: true, strict: true });
// ajv-formats is CommonJS: under NodeNext its default export is the module object.
const addFormats = ((ajvFormats as unknown as { default?: FormatsPlugin }).default ?? ajvFormats) as unknown as FormatsPlugin;
addFormats(ajv);
for (const keyword of ["x-kubernetes-validations", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string", "x-kubernetes-list-type", "x-kubernetes-list-map-keys", "x-kubernetes-map-type", "x-kubernetes-embedded-resource"]) {
  ajv.addKeyword(keyword);
}

const validators = new Map<string, ValidateFunction>();
function validatorFor(kind: string): ValidateFunction {
  const known = validators.get(kind);
  if (known) return known;
  const validate = ajv.compile(closed(crdFor(kind).schema));
  validators.set(kind, validate);
  return validate;
}

/** Validation errors for a BGPConfiguration/BGPPeer object, or [] when the API server would take it. */
function errorsOf(object: Obj): string[] {
  const validate = validatorFor(object.kind as string);
  if (validate(pruneNulls(object))) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""} ${e.params ? JSON.stringify(e.params) : ""}`.trim());
}

/** What the watcher's validation (libs/config) says: [] when it accepts. */
function configIssuesOf(object: Obj): string[] {
  const result = validateResource(object);
  return result.ok ? [] : result.issues.map((issue) => `${issue.field}: ${issue.reason}`);
}

const KINDS = new Set(["BGPConfiguration", "BGPPeer"]);
const API_VERSIONS = new Set(["svcbgp.io/v1", "projectcalico.org/v3"]);

describe("CRD definitions", () => {
  it("are what deploy/kubernetes/crds/generate.mjs writes", () => {
    const dir = mkdtempSync(join(tmpdir(), "svcbgp-crds-"));
    try {
      execFileSync(process.execPath, [join(ROOT, "deploy/kubernetes/crds/generate.mjs"), dir], { stdio: "pipe" });
      expect(crdFiles.map((file) => basename(file))).toEqual(["svcbgp.io_bgpconfigurations.yaml", "svcbgp.io_bgppeers.yaml"]);
      for (const file of crdFiles) {
        expect(readFileSync(file, "utf8"), `${rel(file)} is stale: run node deploy/kubernetes/crds/generate.mjs`).toBe(readFileSync(join(dir, basename(file)), "utf8"));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("both CRDs exist, cluster-scoped, in group svcbgp.io version v1", () => {
    for (const [kind, plural] of [
      ["BGPConfiguration", "bgpconfigurations"],
      ["BGPPeer", "bgppeers"],
    ]) {
      const { crd, version } = crdFor(kind);
      const spec = crd.spec as Obj;
      expect((crd.metadata as Obj).name).toBe(`${plural}.svcbgp.io`);
      expect(spec.group).toBe("svcbgp.io");
      expect(spec.scope).toBe("Cluster");
      expect((spec.names as Obj).plural).toBe(plural);
      expect(version.name).toBe("v1");
      expect(version.served).toBe(true);
    }
  });

  it.each(["BGPConfiguration", "BGPPeer"])("%s: the schema is structural", (kind) => {
    const { schema } = crdFor(kind);
    expect(structuralProblems(schema)).toEqual([]);
    // Nothing but name constraints may be said about metadata.
    expect((schema.properties as Obj).metadata).toEqual({ type: "object" });
  });

  it.each(["BGPConfiguration", "BGPPeer"])("%s: printer columns point at fields the schema has", (kind) => {
    const { version, schema } = crdFor(kind);
    const columns = version.additionalPrinterColumns as Array<{ name: string; jsonPath: string; type: string }>;
    expect(columns.length).toBeGreaterThan(2);
    for (const column of columns) {
      if (column.jsonPath === ".metadata.creationTimestamp") continue;
      let node: Schema | undefined = schema;
      for (const part of column.jsonPath.replace(/\[\*\]/g, ".[]").split(".").filter(Boolean)) {
        node = part === "[]" ? (node?.items as Schema | undefined) : ((node?.properties as Obj | undefined)?.[part] as Schema | undefined);
      }
      expect(node, `${kind} column ${column.name}: ${column.jsonPath}`).toBeDefined();
      if (column.type === "integer") expect(node!.type).toBe("integer");
    }
  });

  it("BGPPeer rejects node together with nodeSelector (a CEL rule the API server runs)", () => {
    const spec = (crdFor("BGPPeer").schema.properties as Obj).spec as Schema;
    expect(spec["x-kubernetes-validations"]).toEqual([expect.objectContaining({ rule: "!(has(self.node) && has(self.nodeSelector))" })]);
  });
});

describe("examples validate against the CRD schemas", () => {
  const fromFiles = filesUnder("examples", YAML_FILE).flatMap((file) =>
    loadYamlDocs(file).map((doc) => ({ where: `${rel(file)}#${doc.index}`, value: doc.value })),
  );
  const docsFile = join(ROOT, "docs/deploy.md");
  const fromDocs = codeBlocks(docsFile)
    .filter((block) => block.lang === "yaml")
    .flatMap((block, i) => {
      const parts = block.code.split(/^---\s*$/m);
      return parts.map((part, j) => ({ where: `docs/deploy.md yaml block ${i}.${j}`, value: parse(part) as unknown }));
    });
  const resources = [...fromFiles, ...fromDocs].filter(
    ({ value }) => isObj(value) && KINDS.has(value.kind as string) && API_VERSIONS.has(value.apiVersion as string),
  ) as Array<{ where: string; value: Obj }>;

  it("there are examples of both kinds", () => {
    const kinds = new Set(resources.map(({ value }) => value.kind));
    expect([...kinds].sort()).toEqual(["BGPConfiguration", "BGPPeer"]);
  });

  it.each(resources.map((r) => [`${r.where} ${r.value.apiVersion} ${r.value.kind} ${String((r.value.metadata as Obj)?.name)}`, r.value]))(
    "%s",
    (_name, value) => {
      expect(errorsOf(value as Obj), "CRD schema").toEqual([]);
      expect(configIssuesOf(value as Obj), "libs/config").toEqual([]);
    },
  );
});

describe("the schemas accept what they should and reject malformed resources", () => {
  const config = (spec: unknown, apiVersion = "svcbgp.io/v1"): Obj => ({ apiVersion, kind: "BGPConfiguration", metadata: { name: "default" }, spec });
  const peer = (spec: unknown, apiVersion = "svcbgp.io/v1"): Obj => ({ apiVersion, kind: "BGPPeer", metadata: { name: "p" }, spec });
  const seedPeer = { peerIP: "192.168.1.1", asNumber: 64512 };

  it.each([
    ["the seed's BGPPeer (Calico apiVersion)", peer(seedPeer, "projectcalico.org/v3")],
    ["the seed's step-5 BGPConfiguration, serviceClusterIPs left empty (null)", config({ serviceClusterIPs: null, serviceExternalIPs: [{ cidr: "192.168.3.0/24" }] }, "projectcalico.org/v3")],
    ["empty lists", config({ serviceClusterIPs: [], serviceExternalIPs: [] })],
    ["IPv6 and single-IP ranges", config({ serviceClusterIPs: [{ cidr: "fd00:49::/112" }, { cidr: "10.49.62.131/32" }], serviceLoadBalancerIPs: [{ cidr: "::/0" }, { cidr: "0.0.0.0/0" }] })],
    ["communities, standard and large", config({ communities: [{ name: "a", value: "65535:65281" }, { name: "big", value: "4294967295:0:1" }], prefixAdvertisements: [{ cidr: "10.49.0.0/16", communities: ["a", "64512:10"] }] })],
    ["listenPort 179, aggregation, pod CIDRs", config({ listenPort: 179, serviceLoadBalancerAggregation: "Disabled", advertisePodCIDRs: true, asNumber: 4294967295 })],
    ["a BGPConfiguration without spec", { apiVersion: "svcbgp.io/v1", kind: "BGPConfiguration", metadata: { name: "default" } }],
    ["well-known communities", config({ communities: [{ name: "ne", value: "no-export" }], prefixAdvertisements: [{ cidr: "10.49.0.0/16", communities: ["ne", "no-advertise"] }] })],
    ["Calico fields svcbgp ignores", config({ nodeToNodeMeshEnabled: false, logSeverityScreen: "Info", serviceClusterIPs: [{ cidr: "10.49.0.0/16" }] }, "projectcalico.org/v3")],
    ["a peer with an explicit source address and hold time", peer({ ...seedPeer, sourceAddress: "192.168.1.10", holdTime: "9s", keepaliveTime: "3s" })],
    ["a peer with a port", peer({ peerIP: "192.168.1.1:1790", asNumber: 1 })],
    ["an IPv6 peer", peer({ peerIP: "fd00::1", asNumber: 65000 })],
    ["an IPv6 peer with a port", peer({ peerIP: "[fd00::1]:1790", asNumber: 65000 })],
    [
      "a peer with every field",
      peer({
        peerIP: "10.0.0.1",
        asNumber: 65001,
        localASNumber: 4200000000,
        nodeSelector: "rack == 'r1'",
        password: { secretKeyRef: { name: "bgp", key: "tor" } },
        sourceAddress: "None",
        keepaliveTime: "1m30s",
        maxRestartTime: "2m0.5s",
        ttlSecurity: 1,
        numAllowedLocalASNumbers: 2,
      }),
    ],
  ])("accepts %s", (_name, object) => {
    expect(errorsOf(object), "CRD schema").toEqual([]);
    expect(configIssuesOf(object), "libs/config").toEqual([]);
  });

  it.each([
    ["a CIDR with prefix /33", config({ serviceClusterIPs: [{ cidr: "10.49.0.0/33" }] }), "/spec/serviceClusterIPs/0/cidr"],
    ["a CIDR with three octets", config({ serviceExternalIPs: [{ cidr: "10.49.0/16" }] }), "/spec/serviceExternalIPs/0/cidr"],
    ["a CIDR without a prefix length", config({ serviceClusterIPs: [{ cidr: "10.49.0.0" }] }), "/spec/serviceClusterIPs/0/cidr"],
    ["a CIDR with an octet over 255", config({ serviceLoadBalancerIPs: [{ cidr: "300.1.0.0/16" }] }), "/spec/serviceLoadBalancerIPs/0/cidr"],
    ["an IPv6 CIDR with prefix /129", config({ serviceClusterIPs: [{ cidr: "fd00::/129" }] }), "/spec/serviceClusterIPs/0/cidr"],
    ["a range without its cidr", config({ serviceClusterIPs: [{}] }), "/spec/serviceClusterIPs/0"],
    ["ASN 0", peer({ ...seedPeer, asNumber: 0 }), "/spec/asNumber"],
    ["ASN 2^32", peer({ ...seedPeer, asNumber: 4294967296 }), "/spec/asNumber"],
    ["a negative ASN", config({ asNumber: -1 }), "/spec/asNumber"],
    ["a fractional ASN", peer({ ...seedPeer, asNumber: 64512.5 }), "/spec/asNumber"],
    ["an ASN as a string", peer({ ...seedPeer, asNumber: "64512" }), "/spec/asNumber"],
    ["localASNumber out of range", peer({ ...seedPeer, localASNumber: 4294967296 }), "/spec/localASNumber"],
    ["an unknown spec field (a typo of peerIP)", peer({ peerIp: "192.168.1.1", peerIP: "192.168.1.1", asNumber: 64512 }), "/spec"],
    ["an unknown field in a range", config({ serviceClusterIPs: [{ cidr: "10.49.0.0/16", cider: "x" }] }), "/spec/serviceClusterIPs/0"],
    ["an unknown top-level field", { ...config({}), specs: {} }, "/"],
    ["an unknown field in the password ref", peer({ ...seedPeer, password: { secretKeyRef: { name: "a", key: "b", namespace: "default" } } }), "/spec/password/secretKeyRef"],
    ["a peer IP with an octet over 255", peer({ ...seedPeer, peerIP: "192.168.1.256" }), "/spec/peerIP"],
    ["a peer IP with port 0", peer({ ...seedPeer, peerIP: "192.168.1.1:0" }), "/spec/peerIP"],
    ["a peer IP with port 65536", peer({ ...seedPeer, peerIP: "192.168.1.1:65536" }), "/spec/peerIP"],
    ["a bracketed IPv4 peer", peer({ ...seedPeer, peerIP: "[192.168.1.1]:179" }), "/spec/peerIP"],
    ["a host name as peer", peer({ ...seedPeer, peerIP: "tor.example" }), "/spec/peerIP"],
    ["a peer without peerIP", peer({ asNumber: 64512 }), "/spec"],
    ["a lower-case aggregation value", config({ serviceLoadBalancerAggregation: "enabled" }), "/spec/serviceLoadBalancerAggregation"],
    ["an unknown sourceAddress", peer({ ...seedPeer, sourceAddress: "NodeIP" }), "/spec/sourceAddress"],
    ["a duration without a unit", peer({ ...seedPeer, keepaliveTime: "30" }), "/spec/keepaliveTime"],
    ["a duration in days", peer({ ...seedPeer, maxRestartTime: "1d" }), "/spec/maxRestartTime"],
    ["listenPort 0", config({ listenPort: 0 }), "/spec/listenPort"],
    ["listenPort 65536", config({ listenPort: 65536 }), "/spec/listenPort"],
    ["a community part over 16 bits", config({ communities: [{ name: "a", value: "65536:1" }] }), "/spec/communities/0/value"],
    ["a community with four parts", config({ communities: [{ name: "a", value: "1:2:3:4" }] }), "/spec/communities/0/value"],
    ["ttlSecurity 256", peer({ ...seedPeer, ttlSecurity: 256 }), "/spec/ttlSecurity"],
    ["a password without its key", peer({ ...seedPeer, password: { secretKeyRef: { name: "a" } } }), "/spec/password/secretKeyRef"],
    ["a peer without spec", { apiVersion: "svcbgp.io/v1", kind: "BGPPeer", metadata: { name: "p" } }, "/"],
    ["a negative duration", peer({ ...seedPeer, keepaliveTime: "-1s" }), "/spec/keepaliveTime"],
    ["the same mistakes under the Calico apiVersion", peer({ ...seedPeer, asNumber: 0 }, "projectcalico.org/v3"), "/spec/asNumber"],
  ])("rejects %s", (_name, object, where) => {
    const errors = errorsOf(object as Obj);
    expect(errors.length, "expected a validation error").toBeGreaterThan(0);
    expect(errors.some((e) => e.startsWith(`${where} `)), errors.join("\n")).toBe(true);
    expect(configIssuesOf(object as Obj).length, "libs/config accepts what the CRD rejects").toBeGreaterThan(0);
  });

  it("types the Calico fields svcbgp ignores (libs/config ignores whatever they hold)", () => {
    expect(errorsOf(config({ nodeToNodeMeshEnabled: "yes" }))[0]).toMatch(/^\/spec\/nodeToNodeMeshEnabled /);
    expect(errorsOf(peer({ ...seedPeer, keepOriginalNextHop: "yes" }))[0]).toMatch(/^\/spec\/keepOriginalNextHop /);
  });
});
