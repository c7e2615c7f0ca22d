/**
 * The fast path must give exactly the full parser's result whenever it takes
 * a text: checked on the shapes tools write, on tricky cases, and on
 * generated documents (with random styles, tricky scalars and keys, and
 * line-level damage) against parseManifestValuesFully.
 */
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { fastParseManifestValues } from "./manifests-fast.js";
import { parseManifestValues, parseManifestValuesFully } from "./manifests.js";

const RUNS = 2000;

/**
 * Equal as node's isDeepStrictEqual has it: -0 is not 0, prototypes and own
 * properties count (toStrictEqual would also compare objects' `constructor`
 * properties by identity, which a `constructor: []` key defeats).
 */
function expectSame(fast: unknown, full: unknown, text: string): void {
  if (!isDeepStrictEqual(fast, full)) expect(fast, JSON.stringify(text)).toEqual(full);
  expect(isDeepStrictEqual(fast, full), JSON.stringify(text)).toBe(true);
}

/** The fast path takes `text`, and agrees with the full parser. */
function expectTaken(text: string): void {
  const fast = fastParseManifestValues(text, "f.yaml");
  expect(fast, JSON.stringify(text)).toBeDefined();
  expectSame(fast, parseManifestValuesFully(text, "f.yaml"), text);
}

/** Whether the fast path takes `text`; if it does, it must agree with the full parser. */
function agrees(text: string): boolean {
  const fast = fastParseManifestValues(text, "f.yaml");
  if (fast === undefined) return false;
  expectSame(fast, parseManifestValuesFully(text, "f.yaml"), text);
  return true;
}

const service = {
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "svc-1", namespace: "default", labels: { "app.kubernetes.io/name": "web" }, annotations: { "svcbgp.io/x": "true" } },
  spec: { type: "LoadBalancer", ports: [{ port: 80, protocol: "TCP", targetPort: 80 }], clusterIP: "10.49.0.2", externalTrafficPolicy: "Local", loadBalancerIPs: ["10.60.0.2"] },
};
const slice = {
  apiVersion: "discovery.k8s.io/v1",
  kind: "EndpointSlice",
  metadata: { name: "svc-1-abc", namespace: "default", labels: { "kubernetes.io/service-name": "svc-1" } },
  addressType: "IPv4",
  endpoints: [
    { addresses: ["10.48.0.11"], conditions: { ready: true, serving: true, terminating: false }, nodeName: "node-7" },
    { addresses: ["10.48.0.12"], conditions: { ready: false }, nodeName: "node-20" },
  ],
  ports: [{ name: "", port: 8080, protocol: "TCP" }],
};

describe("fastParseManifestValues", () => {
  it("takes what `yaml` and kubectl write, as the full parser reads it", () => {
    expectTaken([service, slice].map((o) => stringify(o, { lineWidth: 0 })).join("---\n"));
    // kubectl: sequences not indented under their key, a List.
    expectTaken(stringify({ apiVersion: "v1", kind: "List", items: [service, slice], metadata: { resourceVersion: "" } }, { indentSeq: false }));
    expectTaken(stringify(slice, { indent: 4 }));
  });

  it("gives each document's line, and each List item's", () => {
    const text = "# lead\n---\n\n  # indented comment\napiVersion: v1\nkind: Node\n---\n---\n# only a comment\n---\nkind: NodeList\nitems:\n- a: 1\n-\n  # c\n  b: 2\n-   d: 1\n    e: [x, 'y']\n";
    expectTaken(text);
    expect(fastParseManifestValues(text, "f.yaml")?.values.map((v) => [v.line, v.item])).toEqual([
      [5, undefined],
      [13, 0],
      [16, 1],
      [17, 2],
    ]);
  });

  it.each([
    ["core schema scalars", "a: ~\nb: Null\nc: True\nd: FALSE\ne: 0o17\nf: 0x1F\ng: +12\nh: 007\ni: 1e3\nj: .5\nk: 1.\nl: -.inf\nm: .NaN\nn: yes\no: 10.48.0.1\np: 12345678901234567890\nq: -0\n"],
    ["quoted scalars", "a: 'it''s # not a comment'\nb: \"x: y\"  # a comment\nc: ''\nd: \"\"\ne: 'true'\n"],
    ["comments and empty values", "a: # comment\n  b: 1 # c\nc:\nd:   \ne: x#y\n"],
    ["flow collections", "a: []\nb: {}\nc: [x, 1, \"y z\", 'w']\nd: {ready: true, n: 1}\n"],
    ["prototype keys", "constructor: 1\ntoString: x\nhasOwnProperty: []\n"],
    ["non-breaking spaces are content", "a: x\u00a0\nb: x\u00a0 y \u00a0 \n"],
    ["plain scalars with indicators inside", "a: x]\nb: x,y{}\nc: -x\nd: http://x/y?z=1\ne: a :b\n"],
    ["nested sequences and maps", "a:\n- b:\n  - 1\n  - c: d\n    e:\n      f: g\n-\n  h: i\n- [j]\n"],
  ])("agrees with the full parser on %s", (_, text) => expectTaken(text));

  it.each([
    ["tabs", "a:\tb\n"],
    ["CRLF", "a: b\r\nc: d\r\n"],
    ["a BOM", "\ufeffa: b\n"],
    ["a directive", "%YAML 1.1\n---\na: b\n"],
    ["a document end marker", "a: b\n...\n"],
    ["content after ---", "--- a: b\n"],
    ["anchors and aliases", "a: &x b\nc: *x\n"],
    ["tags", "a: !!str 1\n"],
    ["block scalars", "a: |\n  b\n"],
    ["multi-line plain scalars", "a: b\n  c\n"],
    ["a scalar on the line after its key", "a:\n  b\n"],
    ["multi-line flow collections", "a: [b,\n  c]\n"],
    ["nested flow collections", "a: [[b]]\n"],
    ["escapes", 'a: "b\\n"\n'],
    ["duplicate keys", "a: 1\na: 2\n"],
    ["keys that are not plain strings", "true: 1\n"],
    ["quoted keys", '"a": 1\n'],
    ["complex keys", "? a\n: b\n"],
    ["merge keys", "<<: {a: 1}\n"],
    ["__proto__", "__proto__: 1\n"],
    ["a pair on a pair's line", "a: b: c\n"],
    ["compact nested sequences", "a:\n- - b\n"],
    ["a null sequence item", "a:\n-\n- b\n"],
    ["a List item that is not a mapping", "kind: List\nitems:\n- a\n"],
    ["a top-level sequence", "- a\n"],
    ["an indented document", "  a: b\n"],
    ["bad indentation", "a:\n  b: 1\n c: 2\n"],
  ])("declines %s", (_, text) => {
    expect(fastParseManifestValues(text, "f.yaml")).toBeUndefined();
    expectSame(parseManifestValues(text, "f.yaml"), parseManifestValuesFully(text, "f.yaml"), text);
  });
});

// Generated documents: mostly ordinary tokens, some tricky ones, rendered raw (unquoted) in random styles.
const SAFE = ["a", "node-1", "10.48.0.1", "10.48.0.0/24", "v1", "true", "False", "null", "~", "0", "64512", "1.5", "1e3", "0x1F", "'q'", '"q"', "''", "[]", "{}", "[a, b]", "{a: 1}", "é", "a b", "a:b", "a#b", "x # c", "-x", "+1", "http://x/y", ""];
const TRICKY = ["-", "- x", "--", "a: b", "a:", ":a", "? a", "#a", "'it''s'", "'a'b'", '"a\\nb"', '"a"b', "[a,b]", "[ ]", "[a, [b]]", "{a:1}", "{a: 1, a: 2}", "x]", "]x", "&a x", "*a", "!x", "|", ">-", "%x", "@x", "`x`", "...", "---", "\u00a0", "x\ty", ".inf", ".NaN", "-.5", "007", "0o8", "12345678901234567890", "<<", "List", "NodeList", '["a", \'b\']', '["a,b"]'];
const token = fc.oneof({ arbitrary: fc.constantFrom(...SAFE), weight: 12 }, { arbitrary: fc.constantFrom(...TRICKY), weight: 1 });
const key = fc.oneof(
  { arbitrary: fc.constantFrom("a", "b", "kind", "items", "metadata", "name", "x.io/y-z", "k0", "k1", "k2", "k3", "_k"), weight: 20 },
  fc.constantFrom("true", "null", "1", "__proto__", "constructor", "<<", "a b", "'q'", '"q"', "? a", "-a", "a:"),
);
type Tree = string | Tree[] | Array<[string, Tree]>;
const tree: fc.Arbitrary<Tree> = fc.letrec<{ v: Tree }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    { arbitrary: token, weight: 4 },
    { arbitrary: fc.array(tie("v"), { maxLength: 3 }), weight: 1 },
    { arbitrary: fc.array(fc.tuple(key, tie("v")), { maxLength: 4 }), weight: 2 },
  ),
})).v;
const style = fc.record({ step: fc.constantFrom(1, 2, 4), zeroIndent: fc.boolean(), compact: fc.boolean(), flow: fc.boolean(), comment: fc.boolean(), emptyMap: fc.boolean() });
type Style = typeof style extends fc.Arbitrary<infer S> ? S : never;

const isPairs = (v: Tree): v is Array<[string, Tree]> => Array.isArray(v) && v.length > 0 && v.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === "string");

function renderMap(pairs: Array<[string, Tree]>, s: Style, indent: number, out: string[]): string[] {
  const pad = " ".repeat(indent);
  for (const [k, v] of pairs) {
    if (typeof v === "string") out.push(`${pad}${k}: ${v}${s.comment ? " # c" : ""}`);
    else if (v.length === 0) out.push(`${pad}${k}: ${s.emptyMap ? "{}" : "[]"}`);
    else if (s.flow && v.every((x) => typeof x === "string")) out.push(`${pad}${k}: [${v.join(", ")}]`);
    else if (isPairs(v) && s.flow && v.every(([, x]) => typeof x === "string")) out.push(`${pad}${k}: {${v.map(([a, b]) => `${a}: ${b}`).join(", ")}}`);
    else if (isPairs(v)) {
      out.push(`${pad}${k}:${s.comment ? " # c" : ""}`);
      renderMap(v, s, indent + s.step, out);
    } else {
      out.push(`${pad}${k}:`);
      renderSeq(v, s, s.zeroIndent ? indent : indent + s.step, out);
    }
  }
  return out;
}

function renderSeq(items: Tree[], s: Style, indent: number, out: string[]): string[] {
  const pad = " ".repeat(indent);
  for (const item of items) {
    if (typeof item === "string") out.push(`${pad}- ${item}`);
    else if (item.length === 0) out.push(`${pad}- []`);
    else if (isPairs(item) && s.compact) {
      const lines = renderMap(item, s, indent + 2, []);
      out.push(`${pad}- ${lines[0].slice(indent + 2)}`, ...lines.slice(1));
    } else {
      out.push(`${pad}-`);
      if (isPairs(item)) renderMap(item, s, indent + s.step, out);
      else renderSeq(item, s, indent + s.step, out);
    }
  }
  return out;
}

type Edit = [number, string, string];
const damage: fc.Arbitrary<Edit[]> = fc.oneof(
  fc.constant<Edit[]>([]),
  fc.array(fc.tuple(fc.nat(), fc.constantFrom("delete", "duplicate", "indent", "dedent", "separator", "comment", "blank", "swap", "insert"), fc.constantFrom(...TRICKY, ":", " ", "#")), { maxLength: 3 }),
);

function damaged(lines: string[], edits: Edit[]): string[] {
  const out = [...lines];
  for (const [n, edit, text] of edits) {
    if (out.length === 0) break;
    const i = n % out.length;
    if (edit === "delete") out.splice(i, 1);
    else if (edit === "duplicate") out.splice(i, 0, out[i]);
    else if (edit === "indent") out[i] = ` ${out[i]}`;
    else if (edit === "dedent") out[i] = out[i].replace(/^ /, "");
    else if (edit === "separator") out.splice(i, 0, "---");
    else if (edit === "comment") out.splice(i, 0, `${" ".repeat(n % 5)}# x`);
    else if (edit === "blank") out.splice(i, 0, "");
    else if (edit === "swap" && i + 1 < out.length) [out[i], out[i + 1]] = [out[i + 1], out[i]];
    else if (edit === "insert") out[i] = out[i].slice(0, n % (out[i].length + 1)) + text + out[i].slice(n % (out[i].length + 1));
  }
  return out;
}

describe("fastParseManifestValues against the full parser", () => {
  it("agrees on generated documents in random styles, whole or damaged", () => {
    let taken = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.array(fc.tuple(key, tree), { minLength: 1, maxLength: 5 }), style), { minLength: 1, maxLength: 3 }), damage, (docs, edits) => {
        const lines = docs.flatMap(([pairs, s], i) => [...(i > 0 || s.comment ? ["---"] : []), ...renderMap(pairs, s, 0, [])]);
        if (agrees(`${lines.join("\n")}\n`)) taken++;
        if (agrees(damaged(lines, edits).join("\n"))) taken++;
      }),
      { numRuns: RUNS },
    );
    expect(taken).toBeGreaterThan(RUNS / 10); // the property is not vacuous
  });

  it("agrees on Lists, whose items' lines it gives", () => {
    let taken = 0;
    const item = fc.oneof({ arbitrary: fc.array(fc.tuple(key, tree), { minLength: 1, maxLength: 3 }), weight: 5 }, token, fc.constant<Tree>([]));
    fc.assert(
      fc.property(fc.constantFrom("List", "NodeList", "Lists", "Node"), fc.array(item, { maxLength: 4 }), style, fc.array(fc.constantFrom("", "# c", "  # c", "---")), damage, (kind, items, s, lead, edits) => {
        const lines = [...lead, `kind: ${kind}`, "items:", ...renderSeq(items, s, s.zeroIndent ? 0 : s.step, [])].flatMap((l, i) => (i > 2 && i % 3 === 0 && s.comment ? ["  # c", l] : [l]));
        if (agrees(`${lines.join("\n")}\n`)) taken++;
        if (agrees(damaged(lines, edits).join("\n"))) taken++;
      }),
      { numRuns: RUNS },
    );
    expect(taken).toBeGreaterThan(RUNS / 10);
  });

  it("agrees on what `yaml` writes for arbitrary values", () => {
    const json = fc.letrec<{ v: unknown }>((tie) => ({
      v: fc.oneof(
        { depthSize: "small" },
        fc.string(),
        token,
        fc.integer(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie("v"), { maxLength: 3 }),
        fc.dictionary(fc.oneof(fc.string(), key), tie("v"), { maxKeys: 4 }),
      ),
    })).v;
    let taken = 0;
    fc.assert(
      fc.property(
        fc.array(fc.dictionary(fc.oneof(fc.string(), key), json, { minKeys: 1, maxKeys: 5 }), { minLength: 1, maxLength: 3 }),
        fc.record({ indentSeq: fc.boolean(), indent: fc.constantFrom(1, 2, 4) }),
        damage,
        (docs, options, edits) => {
          const text = docs.map((d) => stringify(d, { lineWidth: 0, ...options })).join("---\n");
          if (agrees(text)) taken++;
          if (agrees(damaged(text.split("\n"), edits).join("\n"))) taken++;
        },
      ),
      { numRuns: RUNS },
    );
    expect(taken).toBeGreaterThan(RUNS / 20);
  });
});
