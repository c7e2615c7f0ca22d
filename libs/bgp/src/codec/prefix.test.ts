/** Prefix parsing and canonical text (RFC 4632 CIDR, RFC 5952 IPv6 text). */
import { describe, expect, it } from "vitest";
import { canonicalAddress, canonicalPrefix, isValidPrefix, prefixFamily } from "./index.js";

describe("canonicalPrefix", () => {
  const cases: Array<[string, string]> = [
    ["10.49.0.0/16", "10.49.0.0/16"],
    ["10.1.2.3/8", "10.0.0.0/8"],
    ["192.168.3.180", "192.168.3.180/32"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["255.255.255.255/1", "128.0.0.0/1"],
    ["10.0.0.255/25", "10.0.0.128/25"],
    ["2001:DB8:0:0:1::/64", "2001:db8::/64"],
    ["2001:db8:0:0:1:0:0:1/128", "2001:db8::1:0:0:1/128"], // first of equal runs
    ["2001:db8:0:1:1:1:1:1/128", "2001:db8:0:1:1:1:1:1/128"], // a single zero word is not compressed
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1/128"],
    ["1:0:0:2:0:0:0:3/128", "1:0:0:2::3/128"], // the longest run wins
    ["::/0", "::/0"],
    ["::1", "::1/128"],
    ["1::", "1::/128"],
    ["::ffff:1.2.3.4/128", "::ffff:102:304/128"],
    ["fe80::1:2/10", "fe80::/10"],
    ["2001:db8::/127", "2001:db8::/127"],
  ];
  for (const [input, expected] of cases) {
    it(`${input} -> ${expected}`, () => expect(canonicalPrefix(input)).toBe(expected));
  }

  const invalid = [
    "",
    "abc",
    "10.0.0.256/8",
    "10.0.0/8",
    "10.0.0.0.0/8",
    "01.2.3.4/8",
    "10.0.0.0/33",
    "10.0.0.0/",
    "10.0.0.0/08",
    "10.0.0.0/-1",
    "10.0.0.0/1a",
    " 10.0.0.0/8",
    "::/129",
    "1:::2/64",
    ":1/64",
    "1:/64",
    "1:2:3:4:5:6:7:8:9/64",
    "1::2:3:4:5:6:7:8/64",
    "12345::/64",
    "g::/64",
    "fe80::1%eth0/64",
    "::1.2.3/128",
    "1.2.3.4::/64",
  ];
  for (const input of invalid) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      expect(() => canonicalPrefix(input)).toThrow(TypeError);
      expect(isValidPrefix(input)).toBe(false);
    });
  }
});

describe("prefixFamily and canonicalAddress", () => {
  it("gives the AFI", () => {
    expect(prefixFamily("10.0.0.0/8")).toBe(1);
    expect(prefixFamily("2001:db8::/32")).toBe(2);
    expect(prefixFamily("::ffff:1.2.3.4/128")).toBe(2);
  });

  it("canonicalises addresses", () => {
    expect(canonicalAddress("2001:DB8::0:1")).toBe("2001:db8::1");
    expect(canonicalAddress("192.0.2.1")).toBe("192.0.2.1");
    expect(() => canonicalAddress("192.0.2.1/32")).toThrow(TypeError);
  });
});
