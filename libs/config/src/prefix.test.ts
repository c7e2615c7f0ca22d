import { describe, expect, it } from "vitest";
import {
  canonicalCidr,
  canonicalIp,
  cidrContains,
  cidrCovers,
  comparePrefixText,
  hostPrefix,
  ipFamily,
  isHostCidr,
  parseCidr,
  parseCidrLoose,
  parseCidrStrict,
  parseIp,
} from "./prefix.js";

describe("parseIp", () => {
  it.each([
    ["10.49.62.131", "10.49.62.131", 4],
    ["0.0.0.0", "0.0.0.0", 4],
    ["255.255.255.255", "255.255.255.255", 4],
    ["FD00:49:0:0::1", "fd00:49::1", 6],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", 6],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1", 6],
    ["::", "::", 6],
    ["::1", "::1", 6],
    ["1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0", 6],
  ])("%s → %s", (text, canonical, family) => {
    expect(canonicalIp(text)).toBe(canonical);
    expect(ipFamily(text)).toBe(family);
  });

  it.each(["", "10.49.62", "10.49.62.256", "010.1.1.1", "1.2.3.4/32", "fd00::1%eth0", "fd00::1/64", "g::1", "host", "1.2.3.4.5"])(
    "rejects %j",
    (text) => expect(parseIp(text)).toBeUndefined(),
  );
});

describe("parseCidr", () => {
  it("canonicalises", () => {
    expect(canonicalCidr("10.49.0.0/16")).toBe("10.49.0.0/16");
    expect(canonicalCidr("FD00:49::/64")).toBe("fd00:49::/64");
    expect(canonicalCidr("0.0.0.0/0")).toBe("0.0.0.0/0");
  });

  it("reports host bits with the likely intent", () => {
    const result = parseCidrStrict("10.49.0.1/16");
    expect(result).toEqual({ ok: false, reason: '"10.49.0.1/16" has host bits set; did you mean 10.49.0.0/16?', suggestion: "10.49.0.0/16" });
    expect(parseCidrLoose("10.49.0.1/16")?.text).toBe("10.49.0.0/16");
  });

  it.each(["10.49.0.0", "10.49.0.0/33", "fd00::/129", "10.49.0.0/-1", "10.49.0.0/016", "x/8"])("rejects %j", (text) => {
    const result = parseCidrStrict(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(text);
  });

  it("computes ranges", () => {
    const cidr = parseCidr("10.49.0.0/16")!;
    expect(cidr.first).toBe(0x0a310000n);
    expect(cidr.last).toBe(0x0a31ffffn);
    expect(isHostCidr(parseCidr("192.168.3.180/32")!)).toBe(true);
    expect(isHostCidr(cidr)).toBe(false);
  });
});

describe("containment", () => {
  it.each([
    ["10.49.0.0/16", "10.49.62.131", true],
    ["10.49.0.0/16", "10.50.0.0", false],
    ["10.49.0.0/16", "10.49.255.255", true],
    ["0.0.0.0/0", "1.2.3.4", true],
    ["fd00:49::/64", "fd00:49::1", true],
    ["fd00:49::/64", "fd00:4a::1", false],
    ["10.49.0.0/16", "fd00::1", false],
    ["192.168.3.180/32", "192.168.3.180", true],
    ["bad", "1.2.3.4", false],
  ])("%s contains %s: %s", (cidr, ip, expected) => expect(cidrContains(cidr, ip)).toBe(expected));

  it("covers", () => {
    expect(cidrCovers("10.0.0.0/8", "10.49.0.0/16")).toBe(true);
    expect(cidrCovers("10.49.0.0/16", "10.0.0.0/8")).toBe(false);
    expect(cidrCovers("10.49.0.0/16", "10.49.0.0/16")).toBe(true);
  });

  it("builds host prefixes", () => {
    expect(hostPrefix("10.49.62.131")).toBe("10.49.62.131/32");
    expect(hostPrefix("FD00::1")).toBe("fd00::1/128");
    expect(hostPrefix("nope")).toBeUndefined();
  });
});

describe("comparePrefixText", () => {
  it("orders IPv4 before IPv6, then by address and length", () => {
    const sorted = ["fd00::1/128", "10.49.62.131/32", "10.49.0.0/16", "9.0.0.0/8", "fd00::/64", "10.49.0.0/24", "::/0", "0.0.0.0/0"].sort(comparePrefixText);
    expect(sorted).toEqual(["0.0.0.0/0", "9.0.0.0/8", "10.49.0.0/16", "10.49.0.0/24", "10.49.62.131/32", "::/0", "fd00::/64", "fd00::1/128"]);
  });

  it("compares by value, not text", () => {
    expect(comparePrefixText("10.49.0.0/16", "9.0.0.0/8")).toBeGreaterThan(0);
    expect(comparePrefixText("fd00::1/128", "FD00::1/128")).toBe(0);
    expect(comparePrefixText("10.0.0.0/8", "10.0.0.0/8")).toBe(0);
  });

  it("puts text that is not a CIDR last, in text order", () => {
    expect(["b", "fd00::/64", "a", "10.0.0.0/8", "10.0.0.1/8"].sort(comparePrefixText)).toEqual(["10.0.0.0/8", "fd00::/64", "10.0.0.1/8", "a", "b"]);
  });
});
