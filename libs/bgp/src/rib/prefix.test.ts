import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { compareKeys, formatIpv6, keyToPrefix, normalizePrefix, parseIpv6, prefixToKey } from "./prefix.js";

describe("prefix keys", () => {
  it("IPv4: a number, host bits cleared", () => {
    expect(prefixToKey("10.0.0.0/8")).toBe(10 * 2 ** 24 * 64 + 8);
    expect(prefixToKey("10.1.2.3/8")).toBe(prefixToKey("10.0.0.0/8"));
    expect(keyToPrefix(prefixToKey("255.255.255.255/32")!)).toBe("255.255.255.255/32");
    expect(keyToPrefix(prefixToKey("0.0.0.0/0")!)).toBe("0.0.0.0/0");
    expect(normalizePrefix("192.168.3.180")).toBe("192.168.3.180/32");
  });

  it("IPv6: RFC 5952 text, host bits cleared", () => {
    expect(normalizePrefix("2001:DB8:0:0:1::/64")).toBe("2001:db8::/64");
    expect(normalizePrefix("2001:db8::1")).toBe("2001:db8::1/128");
    expect(normalizePrefix("::/0")).toBe("::/0");
    expect(normalizePrefix("2001:db8:0:1:0:0:0:1/128")).toBe("2001:db8:0:1::1/128");
    expect(normalizePrefix("::ffff:10.0.0.1/128")).toBe("::ffff:a00:1/128");
    expect(normalizePrefix("fd00:1:2:3::/63")).toBe("fd00:1:2:2::/63");
    expect(formatIpv6([1, 0, 0, 1, 0, 0, 0, 1])).toBe("1:0:0:1::1");
    expect(formatIpv6([1, 0, 1, 1, 1, 1, 1, 1])).toBe("1:0:1:1:1:1:1:1");
  });

  it("rejects what is not a prefix", () => {
    for (const bad of ["", "10.0.0.0/33", "10.0.0/8", "256.0.0.0/8", "10.0.0.0/-1", "::1::2", "1:2:3:4:5:6:7:8:9", "2001:db8::/129", "fe80::1%eth0", "x", "10.0.0.0/8/8"]) {
      expect(prefixToKey(bad), bad).toBeUndefined();
    }
    expect(parseIpv6("1:2:3:4:5:6:7::")).toEqual([1, 2, 3, 4, 5, 6, 7, 0]);
  });

  it("round-trips and orders by family, address, length", () => {
    const v4 = fc.tuple(fc.nat(0xffffffff), fc.integer({ min: 0, max: 32 })).map(([a, l]) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/${l}`);
    const v6 = fc.tuple(fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 128 })).map(([g, l]) => `${g.map((x) => x.toString(16)).join(":")}/${l}`);
    fc.assert(
      fc.property(fc.oneof(v4, v6), (prefix) => {
        const key = prefixToKey(prefix)!;
        expect(key).toBeDefined();
        expect(prefixToKey(keyToPrefix(key))).toBe(key);
      }),
    );
    fc.assert(
      fc.property(v4, v4, (a, b) => {
        const [ka, kb] = [prefixToKey(a)!, prefixToKey(b)!] as number[];
        const [aa, la] = [Math.floor(ka / 64), ka % 64];
        const [ab, lb] = [Math.floor(kb / 64), kb % 64];
        expect(Math.sign(compareKeys(ka, kb))).toBe(Math.sign(aa - ab || la - lb));
      }),
    );
    expect(compareKeys(prefixToKey("255.0.0.0/8")!, prefixToKey("::/0")!)).toBeLessThan(0);
  });

  it("the one-pass IPv4 path agrees with the general parser on near-prefixes", () => {
    // A leading space skips the fast path (trim, then the general parser): both must agree.
    const chars = fc.constantFrom(..."0123456789./ :x");
    const near = fc.oneof(
      fc.tuple(fc.array(fc.nat(300), { minLength: 3, maxLength: 5 }), fc.nat(40), fc.boolean()).map(([o, l, slash]) => `${o.join(".")}${slash ? `/${l}` : ""}`),
      fc.tuple(fc.nat(0xffffffff), fc.nat(99)).map(([a, l]) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/${String(l).padStart(2, "0")}`),
      fc.array(chars, { minLength: 7, maxLength: 20 }).map((c) => c.join("")),
    );
    fc.assert(fc.property(near, (text) => prefixToKey(text) === prefixToKey(` ${text}`)), { numRuns: 5000 });
    expect(prefixToKey("1.2.3.4/33")).toBeUndefined();
    expect(prefixToKey("1.2.3.4/")).toBeUndefined();
    expect(prefixToKey("1.2.3/24")).toBeUndefined();
    expect(prefixToKey("01.2.3.4/8")).toBe(prefixToKey("1.0.0.0/8"));
  });
});
