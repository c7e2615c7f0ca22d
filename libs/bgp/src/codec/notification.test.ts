/** NOTIFICATION vectors (RFC 4271 §4.5), the code registry and RFC 8203/9003 shutdown communications. */
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "./bytes.js";
import {
  BgpError,
  CeaseSubcode,
  FsmErrorSubcode,
  MessageHeaderErrorSubcode,
  NotificationCode,
  OpenMessageErrorSubcode,
  UpdateMessageErrorSubcode,
  decodeMessage,
  decodeShutdownMessage,
  describeNotification,
  encodeMessage,
  shutdownNotification,
  toNotification,
  type NotificationMessage,
} from "./index.js";

const MARKER = "ff".repeat(16);

function notification(code: number, subcode: number, data: Uint8Array = new Uint8Array(0)): NotificationMessage {
  return { type: 3, code, subcode, data };
}

describe("NOTIFICATION vectors", () => {
  const vectors: Array<[string, NotificationMessage, string]> = [
    ["Hold Timer Expired", notification(4, 0), `${MARKER} 0015 03 04 00`],
    ["Bad Message Length with the length", notification(1, 2, Uint8Array.of(0x10, 0x01)), `${MARKER} 0017 03 01 02 1001`],
    ["Bad Message Type with the type", notification(1, 3, Uint8Array.of(9)), `${MARKER} 0016 03 01 03 09`],
    ["Unsupported Version Number", notification(2, 1, Uint8Array.of(0, 4)), `${MARKER} 0017 03 02 01 0004`],
    ["FSM error in OpenConfirm", notification(5, 2), `${MARKER} 0015 03 05 02`],
    ["Cease / Hard Reset", notification(6, 9), `${MARKER} 0015 03 06 09`],
    ["ROUTE-REFRESH error", notification(7, 1, Uint8Array.of(0, 0x18)), `${MARKER} 0017 03 07 01 0018`],
  ];
  for (const [name, m, hex] of vectors) {
    it(name, () => {
      expect(toHex(encodeMessage(m))).toBe(toHex(fromHex(hex)));
      expect(decodeMessage(fromHex(hex))).toEqual({ ok: true, message: m });
    });
  }

  it("decodes every code and subcode, including unknown ones", () => {
    for (let code = 0; code < 256; code += 17) {
      for (let sub = 0; sub < 256; sub += 31) {
        const r = decodeMessage(encodeMessage(notification(code, sub)));
        expect(r).toEqual({ ok: true, message: notification(code, sub) });
      }
    }
  });

  it("rejects a NOTIFICATION shorter than 21 bytes", () => {
    const r = decodeMessage(fromHex(`${MARKER} 0014 03 06`));
    expect(r.ok).toBe(false);
    if (!r.ok) expect([r.error.code, r.error.subcode, toHex(r.error.data)]).toEqual([1, 2, "0014"]);
  });
});

describe("code registry", () => {
  it("has the RFC values", () => {
    expect(NotificationCode).toEqual({
      MessageHeaderError: 1,
      OpenMessageError: 2,
      UpdateMessageError: 3,
      HoldTimerExpired: 4,
      FsmError: 5,
      Cease: 6,
      RouteRefreshMessageError: 7,
    });
    expect(Object.values(MessageHeaderErrorSubcode)).toEqual([1, 2, 3]);
    expect(OpenMessageErrorSubcode.UnacceptableHoldTime).toBe(6);
    expect(OpenMessageErrorSubcode.UnsupportedCapability).toBe(7);
    expect(UpdateMessageErrorSubcode.MalformedAsPath).toBe(11);
    expect(Object.values(FsmErrorSubcode)).toEqual([0, 1, 2, 3]);
    expect(Object.values(CeaseSubcode)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(CeaseSubcode.AdministrativeShutdown).toBe(2);
    expect(CeaseSubcode.HardReset).toBe(9);
    expect(CeaseSubcode.BfdDown).toBe(10);
  });

  it("describes codes for humans, including unknown values", () => {
    expect(describeNotification(6, 2)).toBe("Cease / Administrative Shutdown");
    expect(describeNotification(3, 11)).toBe("UPDATE Message Error / Malformed AS_PATH");
    expect(describeNotification(5, 1)).toBe("Finite State Machine Error / Receive Unexpected Message in OpenSent State");
    expect(describeNotification(4, 0)).toBe("Hold Timer Expired / Unspecific");
    expect(describeNotification(6, 99)).toBe("Cease / subcode 99");
    expect(describeNotification(42, 1)).toBe("Unknown error code 42 / subcode 1");
  });

  it("turns a BgpError into the NOTIFICATION to send", () => {
    const err = new BgpError(1, 2, Uint8Array.of(0, 18), "too short");
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe("Message Header Error / Bad Message Length: too short");
    expect(toNotification(err)).toEqual(notification(1, 2, Uint8Array.of(0, 18)));
  });
});

describe("shutdown communication (RFC 8203 / RFC 9003)", () => {
  it("encodes a length-prefixed UTF-8 reason", () => {
    const n = shutdownNotification("maintenance");
    expect(toHex(encodeMessage(n))).toBe(toHex(fromHex(`${MARKER} 0021 03 06 02 0b 6d61696e74656e616e6365`)));
    expect(decodeShutdownMessage(n)).toBe("maintenance");
  });

  it("works with Administrative Reset and non-ASCII text", () => {
    const n = shutdownNotification("维护 🚧", CeaseSubcode.AdministrativeReset);
    expect(n.subcode).toBe(4);
    expect(decodeShutdownMessage(n)).toBe("维护 🚧");
  });

  it("truncates to 255 bytes without splitting a character", () => {
    const n = shutdownNotification("é".repeat(200)); // 400 bytes
    expect(n.data[0]).toBe(254);
    expect(decodeShutdownMessage(n)).toBe("é".repeat(127));
    expect(shutdownNotification("a".repeat(300)).data[0]).toBe(255);
  });

  it("returns undefined when there is no usable communication", () => {
    expect(decodeShutdownMessage(notification(6, 2))).toBeUndefined();
    expect(decodeShutdownMessage(notification(6, 2, Uint8Array.of(0)))).toBeUndefined();
    expect(decodeShutdownMessage(notification(6, 2, Uint8Array.of(5, 0x61)))).toBeUndefined(); // length beyond data
    expect(decodeShutdownMessage(notification(6, 2, Uint8Array.of(1, 0xff)))).toBeUndefined(); // invalid UTF-8
    expect(decodeShutdownMessage(notification(6, 6, Uint8Array.of(1, 0x61)))).toBeUndefined(); // other subcode
    expect(decodeShutdownMessage(notification(4, 2, Uint8Array.of(1, 0x61)))).toBeUndefined(); // other code
  });
});
