import { describe, expect, it } from "vitest";
import { parseSelector } from "./selector.js";

const labels = { rack: "r1", zone: "a", "topology.kubernetes.io/zone": "eu-1", "node-role.kubernetes.io/worker": "" };

describe("parseSelector", () => {
  it.each([
    ["all()", true],
    ["", true],
    ["rack == 'r1'", true],
    ['rack == "r2"', false],
    ["rack != 'r2'", true],
    ["has(rack)", true],
    ["!has(rack)", false],
    ["has(missing)", false],
    ["rack in {'r1','r2'}", true],
    ["rack in {}", false],
    ["rack not in {'r1'}", false],
    ["missing not in {'r1'}", true],
    ["rack == 'r1' && zone == 'a'", true],
    ["rack == 'r1' && zone == 'b'", false],
    ["rack == 'r2' || zone == 'a'", true],
    ["!(rack == 'r2') && has(node-role.kubernetes.io/worker)", true],
    ["topology.kubernetes.io/zone starts with 'eu'", true],
    ["topology.kubernetes.io/zone ends with '-1'", true],
    ["rack contains '1'", true],
    ["rack=r1,zone=a", true],
    ["rack=r1, zone=b", false],
    ["rack==r1", true],
    ["rack!=r1", false],
    ["rack", true],
    ["!rack", false],
    ["rack in (r1, r2)", true],
    ["rack notin (r1)", false],
  ])("%j → %s", (text, expected) => {
    const result = parseSelector(text);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.selector.matches(labels)).toBe(expected);
  });

  it.each(["rack == 'x", "rack === 'x'", "has(rack", "rack in {'a'", "&& x"])("rejects %j", (text) => {
    const result = parseSelector(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain("invalid selector");
  });
});
