import { describe, expect, it } from "vitest";
import { durationToSeconds, parseDuration, parseGoDuration } from "./duration.js";

describe("Go durations", () => {
  it.each([
    ["30s", 30],
    ["2m", 120],
    ["1h30m", 5400],
    ["1.5s", 1.5],
    ["500ms", 0.5],
    ["0", 0],
    ["0s", 0],
  ])("%s = %ss", (text, seconds) => expect(parseGoDuration(text)).toBeCloseTo(seconds));

  it.each(["", "30", "-1s", "1d", "s", ".s", "abc", "1s2"])("rejects %j", (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });

  it("rounds sub-second timers up", () => {
    expect(durationToSeconds("500ms")).toBe(1);
    expect(durationToSeconds("90s")).toBe(90);
  });
});

describe("command-line durations (parseDuration, ms)", () => {
  it.each([
    ["90s", 90_000],
    ["1m30s", 90_000],
    ["500ms", 500],
    ["2h", 7_200_000],
    ["30", 30_000],
    ["1.5s", 1500],
    [" 10m ", 600_000],
    ["0", 0],
    ["250us", 0.25],
  ])("%s is %d ms", (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(["", "s", "10x", "1m 30s", "-1s", "1.5", "abc"])("rejects %j", (text) => expect(() => parseDuration(text)).toThrow(/not a duration/));

  it("names the offending text", () => expect(() => parseDuration("soon")).toThrow('"soon" is not a duration (e.g. 90s, 1m30s, 500ms)'));
});
