/**
 * OPEN (RFC 4271 §4.2) with capabilities (RFC 5492) and RFC 9072 extended
 * optional parameter lengths. Peer-AS and identifier-collision checks need
 * configuration, so they belong to the session; only context-free checks are here.
 */
import { ByteWriter, readU16, readU32 } from "./bytes.js";
import {
  BGP_VERSION,
  CapabilityCode,
  MIN_OPEN_LENGTH,
  NotificationCode,
  OpenMessageErrorSubcode,
  OptionalParameterType,
  UNSPECIFIC_SUBCODE,
} from "./constants.js";
import { BgpError, u16Data } from "./errors.js";
import { badLength } from "./header.js";
import { formatIpv4, writeAddress } from "./prefix.js";
import { Afi, MessageType, type Capability, type GracefulRestartCapability, type OpenMessage } from "./types.js";

const MAX_U16 = 0xffff;
const MAX_PARAM_LENGTH = 255;
/** Graceful restart flag bits (RFC 4724 §3, RFC 8538 §2). */
const GR_RESTARTING = 0x8;
const GR_NOTIFICATION = 0x4;
const GR_TIME_MASK = 0x0fff;
const GR_FORWARDING = 0x80;
const GR_FAMILY_LENGTH = 4;
const MP_CAPABILITY_LENGTH = 4;
const FOUR_OCTET_AS_CAPABILITY_LENGTH = 4;
const MIN_ACCEPTABLE_HOLD_TIME = 3;

function openError(subcode: number, data?: Uint8Array, detail?: string): BgpError {
  return new BgpError(NotificationCode.OpenMessageError, subcode, data, detail);
}

function encodeCapabilityValue(c: Capability, w: ByteWriter): void {
  switch (c.kind) {
    case "multiprotocol":
      w.u16(c.afi).u8(0).u8(c.safi);
      return;
    case "route-refresh":
    case "extended-message":
      return;
    case "four-octet-as":
      w.u32(c.asn);
      return;
    case "graceful-restart": {
      const g = c.value;
      const flags = (g.restarting ? GR_RESTARTING : 0) | (g.notification ? GR_NOTIFICATION : 0);
      w.u16((flags << 12) | (g.restartTime & GR_TIME_MASK));
      for (const f of g.families) w.u16(f.afi).u8(f.safi).u8(f.forwardingPreserved ? GR_FORWARDING : 0);
      return;
    }
    case "unknown":
      w.bytes(c.data);
      return;
  }
}

/** Encodes capabilities as code/length/value triples. */
function encodeCapabilities(caps: readonly Capability[]): Uint8Array {
  const w = new ByteWriter();
  for (const c of caps) {
    w.u8(c.code);
    const lenAt = w.length;
    w.u8(0);
    encodeCapabilityValue(c, w);
    const len = w.length - lenAt - 1;
    if (len > MAX_PARAM_LENGTH) throw new RangeError(`capability ${c.code} is too long (${len} bytes)`);
    w.patchU8(lenAt, len);
  }
  return w.finish();
}

/** Appends the OPEN body (after the header). */
export function encodeOpenBody(m: OpenMessage, w: ByteWriter): void {
  if (!Number.isInteger(m.myAsn) || m.myAsn < 0 || m.myAsn > MAX_U16) {
    throw new RangeError(`OPEN myAsn must be a 2-octet value (use AS_TRANS for 4-octet ASNs): ${m.myAsn}`);
  }
  w.u8(BGP_VERSION).u16(m.myAsn).u16(m.holdTime);
  writeAddress(w, m.routerId, Afi.Ipv4);
  const caps = m.capabilities.length > 0 ? encodeCapabilities(m.capabilities) : new Uint8Array(0);
  if (caps.length === 0) {
    w.u8(0);
  } else if (caps.length + 2 <= MAX_PARAM_LENGTH) {
    w.u8(caps.length + 2).u8(OptionalParameterType.Capabilities).u8(caps.length).bytes(caps);
  } else {
    // RFC 9072: non-extended length 255, type 255, then a 2-byte length and 2-byte parameter lengths.
    w.u8(MAX_PARAM_LENGTH).u8(OptionalParameterType.ExtendedLength).u16(caps.length + 3);
    w.u8(OptionalParameterType.Capabilities).u16(caps.length).bytes(caps);
  }
}

function decodeGracefulRestart(b: Uint8Array, at: number, len: number): GracefulRestartCapability | undefined {
  if (len < 2 || (len - 2) % GR_FAMILY_LENGTH !== 0) return undefined;
  const head = readU16(b, at);
  const flags = head >>> 12;
  const families: GracefulRestartCapability["families"] = [];
  for (let i = at + 2; i < at + len; i += GR_FAMILY_LENGTH) {
    families.push({ afi: readU16(b, i), safi: b[i + 2], forwardingPreserved: (b[i + 3] & GR_FORWARDING) !== 0 });
  }
  return {
    restarting: (flags & GR_RESTARTING) !== 0,
    notification: (flags & GR_NOTIFICATION) !== 0,
    restartTime: head & GR_TIME_MASK,
    families,
  };
}

/** One capability; a known code with the wrong length is an error rather than silently "unknown". */
function decodeCapability(code: number, b: Uint8Array, at: number, len: number): Capability | BgpError {
  const malformed = () =>
    openError(UNSPECIFIC_SUBCODE, b.slice(at - 2, at + len), `malformed capability ${code} (length ${len})`);
  switch (code) {
    case CapabilityCode.Multiprotocol:
      if (len !== MP_CAPABILITY_LENGTH) return malformed();
      return { code: 1, kind: "multiprotocol", afi: readU16(b, at), safi: b[at + 3] };
    case CapabilityCode.RouteRefresh:
      if (len !== 0) return malformed();
      return { code: 2, kind: "route-refresh" };
    case CapabilityCode.ExtendedMessage:
      if (len !== 0) return malformed();
      return { code: 6, kind: "extended-message" };
    case CapabilityCode.FourOctetAs:
      if (len !== FOUR_OCTET_AS_CAPABILITY_LENGTH) return malformed();
      return { code: 65, kind: "four-octet-as", asn: readU32(b, at) };
    case CapabilityCode.GracefulRestart: {
      const value = decodeGracefulRestart(b, at, len);
      return value ? { code: 64, kind: "graceful-restart", value } : malformed();
    }
    default:
      return { code, kind: "unknown", data: b.slice(at, at + len) };
  }
}

function decodeCapabilities(b: Uint8Array, start: number, end: number, out: Capability[]): BgpError | undefined {
  let i = start;
  while (i < end) {
    if (i + 2 > end) return openError(UNSPECIFIC_SUBCODE, undefined, "truncated capability header");
    const code = b[i];
    const len = b[i + 1];
    i += 2;
    if (i + len > end) return openError(UNSPECIFIC_SUBCODE, undefined, `capability ${code} overruns its parameter`);
    const cap = decodeCapability(code, b, i, len);
    if (cap instanceof BgpError) return cap;
    out.push(cap);
    i += len;
  }
  return undefined;
}

/** Decodes a whole OPEN (header included, length already checked against the buffer). */
export function decodeOpen(b: Uint8Array): OpenMessage | BgpError {
  const length = b.length;
  if (length < MIN_OPEN_LENGTH) return badLength(length);
  const version = b[19];
  if (version !== BGP_VERSION) {
    return openError(OpenMessageErrorSubcode.UnsupportedVersionNumber, u16Data(BGP_VERSION), `peer bid version ${version}`);
  }
  const myAsn = readU16(b, 20);
  const holdTime = readU16(b, 22);
  if (holdTime > 0 && holdTime < MIN_ACCEPTABLE_HOLD_TIME) {
    return openError(OpenMessageErrorSubcode.UnacceptableHoldTime, undefined, `hold time ${holdTime}`);
  }
  if (readU32(b, 24) === 0) return openError(OpenMessageErrorSubcode.BadBgpIdentifier, undefined, "BGP identifier 0.0.0.0");
  const routerId = formatIpv4(b, 24);

  let optLen = b[28];
  let i = MIN_OPEN_LENGTH;
  let extended = false;
  // RFC 9072: a non-extended length of 255 with a first parameter type of 255 announces 2-byte lengths.
  if (optLen === MAX_PARAM_LENGTH && length > i + 2 && b[i] === OptionalParameterType.ExtendedLength) {
    extended = true;
    optLen = readU16(b, i + 1);
    i += 3;
  }
  if (i + optLen !== length) return badLength(length, "optional parameters length does not match the message length");

  const capabilities: Capability[] = [];
  const paramHeader = extended ? 3 : 2;
  while (i < length) {
    if (i + paramHeader > length) return openError(UNSPECIFIC_SUBCODE, undefined, "truncated optional parameter");
    const type = b[i];
    const plen = extended ? readU16(b, i + 1) : b[i + 1];
    i += paramHeader;
    if (i + plen > length) return openError(UNSPECIFIC_SUBCODE, undefined, "optional parameter overruns the message");
    if (type !== OptionalParameterType.Capabilities) {
      return openError(OpenMessageErrorSubcode.UnsupportedOptionalParameter, undefined, `parameter type ${type}`);
    }
    const err = decodeCapabilities(b, i, i + plen, capabilities);
    if (err) return err;
    i += plen;
  }
  return { type: MessageType.Open, version, myAsn, holdTime, routerId, capabilities };
}
