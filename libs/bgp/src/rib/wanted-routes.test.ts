import { describe, expect, it } from "vitest";
import { keyToPrefix } from "./prefix.js";
import { WantedRoutes } from "./wanted-routes.js";

const prefixes = (w: WantedRoutes) => w.values().map((r) => r.prefix).sort();

describe("WantedRoutes", () => {
  it("keeps the last route given for a prefix, across spellings of the same prefix", () => {
    const w = new WantedRoutes();
    w.upsert([{ prefix: "10.0.0.1/32" }, { prefix: "10.0.0.1/32", localPref: 200 }, { prefix: "2001:db8::/64" }]);
    w.upsert([{ prefix: "10.0.0.1/32", med: 5 }]);
    expect(w.size).toBe(2);
    expect(w.values().find((r) => r.prefix === "10.0.0.1/32")).toEqual({ prefix: "10.0.0.1/32", med: 5 });
    w.upsert([{ prefix: "2001:db8:0::/64", localPref: 7 }]);
    expect(w.size).toBe(2);
    expect(w.values().find((r) => r.prefix.startsWith("2001"))).toEqual({ prefix: "2001:db8:0::/64", localPref: 7 });
  });

  it("withdraws by any spelling and returns the keys of what parses", () => {
    const w = new WantedRoutes();
    w.upsert([{ prefix: "10.0.0.0/8" }, { prefix: "10.1.0.0/16" }, { prefix: "2001:db8::/64" }, { prefix: "bogus" }]);
    const keys = w.withdraw(["10.1.2.3/8", "2001:0db8::/64", "bogus", "192.0.2.0/24", "also bogus"]);
    // The two wanted ones and 192.0.2.0/24, by family; not the unparsed texts.
    expect([...keys.ipv4].map(keyToPrefix)).toEqual(["10.0.0.0/8", "192.0.2.0/24"]);
    expect(keys.ipv6.map(keyToPrefix)).toEqual(["2001:db8::/64"]);
    expect(prefixes(w)).toEqual(["10.1.0.0/16"]);
  });

  it("reuses freed slots and lists exactly what is wanted", () => {
    const w = new WantedRoutes();
    const all = Array.from({ length: 5000 }, (_, i) => ({ prefix: `10.${(i >> 8) & 255}.${i & 255}.1/32` }));
    w.upsert(all);
    w.withdraw(all.filter((_, i) => i % 2).map((r) => r.prefix));
    w.upsert(all.slice(0, 10));
    const expected = all.filter((_, i) => i % 2 === 0 || i < 10).map((r) => r.prefix).sort();
    expect(prefixes(w)).toEqual(expected);
    expect(w.size).toBe(expected.length);
  });

  it("missingFrom names, canonically, what a new full set drops (unparsed prefixes by their text)", () => {
    const w = new WantedRoutes();
    w.upsert([{ prefix: "10.0.0.1/32" }, { prefix: "10.0.0.2/32" }, { prefix: "2001:db8::/64" }, { prefix: "2001:db8:1::/64" }, { prefix: "nope" }, { prefix: "keep-me" }]);
    const gone = w.missingFrom([{ prefix: "10.0.0.1/32" }, { prefix: "2001:db8:0:0::/64" }, { prefix: "keep-me" }]);
    expect(gone.sort()).toEqual(["10.0.0.2/32", "2001:db8:1::/64", "nope"]);
    expect(w.size).toBe(6); // missingFrom only reports
  });
});
