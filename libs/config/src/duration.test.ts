import { describe, expect, it } from "vitest";
import { durationToSeconds, parseGoDuration } from "./duration.js";

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
