import { describe, expect, it } from "vitest";
import { parseManifests, parseManifestValues } from "./manifests.js";

describe("parseManifests", () => {
  it("reads multi-document YAML with lines", () => {
    const text = [
      "# leading comment",
      "apiVersion: projectcalico.org/v3",
      "kind: BGPPeer",
      "metadata:",
      "  name: bgppeer-global-64512",
      "spec:",
      "  peerIP: 192.168.1.1",
      "  asNumber: 64512",
      "---",
      "apiVersion: projectcalico.org/v3",
      "kind: BGPConfiguration",
      "metadata:",
      "  name: default",
      "spec:",
      "  serviceClusterIPs:",
      "---",
      "",
    ].join("\n");
    const parsed = parseManifests(text, "seed.yaml");
    expect(parsed.errors).toEqual([]);
    expect(parsed.objects.map((o) => o.kind)).toEqual(["BGPPeer", "BGPConfiguration"]);
    expect(parsed.documents.map((d) => d.line)).toEqual([2, 10]);
    expect((parsed.objects[1].spec as Record<string, unknown>).serviceClusterIPs).toBeNull();
  });

  it.each(["List", "NodeList"])("flattens kind: %s", (listKind) => {
    const text = `apiVersion: v1
kind: ${listKind}
items:
  - apiVersion: v1
    kind: Node
    metadata: {name: node-1}
  - apiVersion: v1
    kind: Node
    metadata: {name: node-2}
`;
    const parsed = parseManifests(text, "list.yaml");
    expect(parsed.objects.map((o) => (o.metadata as { name: string }).name)).toEqual(["node-1", "node-2"]);
    expect(parsed.documents.map((d) => d.line)).toEqual([4, 7]);
  });

  it("reports bad documents with file and line and keeps the rest", () => {
    const text = `apiVersion: v1
kind: Node
metadata: {name: good}
---
apiVersion: v1
kind: Node
metadata: {name: [unclosed
---
- a list
---
kind: Node
metadata: {name: x}
---
apiVersion: v1
kind: Node
metadata: {}
`;
    const parsed = parseManifests(text, "bad.yaml");
    expect(parsed.objects).toHaveLength(1);
    const syntax = parsed.errors.filter((e) => e.line < 9);
    expect(syntax.length).toBeGreaterThan(0);
    expect(syntax.every((e) => e.file === "bad.yaml" && e.line >= 5)).toBe(true);
    const shape = parsed.errors.filter((e) => e.line >= 9);
    expect(shape.map((e) => e.line)).toEqual([9, 11, 14]);
    expect(shape[1].message).toBe("Node has no apiVersion");
    expect(shape[2].message).toBe("Node has no metadata.name");
  });

  it("accepts empty input", () => {
    expect(parseManifests("", "empty.yaml")).toEqual({ objects: [], documents: [], errors: [] });
    expect(parseManifests("# only a comment\n", "c.yaml").objects).toEqual([]);
  });
});

describe("parseManifestValues", () => {
  it("returns every document's value, whatever its shape, with lines and list item indexes", () => {
    const text = "- a list\n---\nkind: Node\n---\n---\napiVersion: v1\nkind: List\nitems:\n  - 1\n  - {kind: Node}\n";
    const { values, errors } = parseManifestValues(text, "v.yaml");
    expect(errors).toEqual([]);
    expect(values).toEqual([
      { value: ["a list"], file: "v.yaml", line: 1 },
      { value: { kind: "Node" }, file: "v.yaml", line: 3 },
      { value: 1, file: "v.yaml", line: 9, item: 0 },
      { value: { kind: "Node" }, file: "v.yaml", line: 10, item: 1 },
    ]);
  });

  it("reports a syntax error's line and column and keeps the other documents", () => {
    const text = "apiVersion: v1\nkind: Node\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Node\nmetadata:\n  name: [b\n";
    const { values, errors } = parseManifestValues(text, "nodes.yaml");
    expect(values).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: "nodes.yaml", line: 10, column: 1 });
    expect(errors[0].message).not.toContain("\n");
  });

  it("reports an alias bomb instead of throwing", () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]", ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(", ")}]`)].join("\n");
    const parsed = parseManifests(bomb, "bomb.yaml");
    expect(parsed.objects).toEqual([]);
    expect(parsed.errors).toMatchObject([{ file: "bomb.yaml", line: 1, message: expect.stringMatching(/alias/i) }]);
  });
});
