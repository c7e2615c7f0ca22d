/**
 * A fast path for parseManifestValues: the plain block YAML that tools write
 * (`yaml`'s and kubectl's output, and most hand-written manifests) is read
 * line by line here, some 20 times faster than through the `yaml` package's
 * full parser, which a directory of 10,000 manifests made the start-up's
 * main cost. Anything else declines (returns undefined) and the caller parses
 * the whole file with the full parser, so the result is always the full
 * parser's; the fast path must only ever be faster, never different
 * (manifests-fast.test.ts checks it against the full parser on generated and
 * mutated documents).
 *
 * Taken: `---` separators; comment and blank lines; block mappings whose keys
 * are plain identifiers (`apiVersion`, `kubernetes.io/service-name`); block
 * sequences (indented or not under their key) whose items are scalars or
 * mappings (`- name: x`); single-line plain, single-quoted and double-quoted
 * (no escapes) scalars, resolved as YAML 1.2's core schema does (null, bool,
 * int, float, else string); one-line flow collections of such scalars
 * (`[a, "b"]`, `{ready: true}`); a comment after a value.
 *
 * Declined: tabs, CR, control characters and BOMs; directives, `...`, tags,
 * anchors, aliases, block scalars (`|`, `>`), other flow collections,
 * multi-line scalars, quoted or complex keys, duplicate keys,
 * keys that are not plain strings (`true`, `null`, `1`), `<<` and
 * `__proto__`, and a List with an item that is not a mapping.
 */
import type { ManifestValue, ParsedManifestValues } from "./manifests.js";

/** A mapping key taken as written: not a number, bool or null in the core schema, nor special. */
const KEY = /^[A-Za-z_][A-Za-z0-9_./-]{0,252}$/;
const NOT_PLAIN_KEYS = new Set(["true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL", "__proto__"]);
/** A character the full parser may read otherwise than the fast path: control characters (tab and CR too), NEL, line separators, BOM, non-characters. */
const UNUSUAL = /[^\n\x20-\x7e\u00a0-\u2027\u202a-\ufefe\uff00-\ufffd]/;
/** How a plain scalar the fast path resolves starts; other indicators (`[`, `&`, `!`, `|`, `? `, ...) are declined. */
const PLAIN_START = /^(?:[A-Za-z0-9_/.~(+=^$<;]|-[^ ])/;
/** A plain scalar in a flow collection the fast path resolves: no spaces, flow indicators, `:` or `#`. */
const FLOW_SCALAR = /^-?[A-Za-z0-9_/.~(+=^$<;][A-Za-z0-9_/.~(+=^$<;)-]*$/;
/** A quoted scalar in a flow collection the fast path takes: no quote (so no escape) inside. */
const FLOW_QUOTED = /^(?:"[^"\\]*"|'[^']*')$/;

// YAML 1.2 core schema, in the order the `yaml` package tries its tags (yaml/dist/schema/core).
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/** First characters of the core schema's non-strings (`~`, null, true, false, numbers); anything else is a string. */
const MAYBE_NOT_STRING = /^[~nNtTfF0-9+\-.]/;

/** A plain scalar's value, as the core schema resolves it. */
function resolvePlain(s: string): unknown {
  if (s !== "" && !MAYBE_NOT_STRING.test(s)) return s; // most values, quickly
  if (NULL.test(s)) return null;
  if (BOOL.test(s)) return s[0] === "t" || s[0] === "T";
  if (INT_OCT.test(s)) return parseInt(s.substring(2), 8);
  if (INT.test(s)) return parseInt(s, 10);
  if (INT_HEX.test(s)) return parseInt(s.substring(2), 16);
  if (FLOAT_NAN.test(s)) return s.slice(-3).toLowerCase() === "nan" ? NaN : s[0] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (FLOAT_EXP.test(s) || FLOAT.test(s)) return parseFloat(s);
  return s;
}

/** Thrown (and caught by fastParseManifestValues) when the text is not in the fast path's subset. */
class Decline extends Error {}

const decline = (): never => {
  throw new Decline();
};

/**
 * Adds a key to a mapping as the `yaml` package does: an own property, even
 * where Object.prototype has one (`constructor`). A duplicate declines (the
 * full parser reports it).
 */
function setKey(map: Record<string, unknown>, key: string, value: unknown): void {
  if (key in Object.prototype) {
    if (Object.hasOwn(map, key)) decline();
    Object.defineProperty(map, key, { value, writable: true, enumerable: true, configurable: true });
  } else if (map[key] !== undefined) {
    decline(); // (no value is undefined)
  } else map[key] = value;
}

/** `s` without leading and trailing spaces: only U+0020 (String.trim's Unicode spaces, U+00A0 say, are content in YAML). */
function trimSpaces(s: string): string {
  let start = 0;
  let end = s.length;
  while (s.charCodeAt(start) === 32) start++;
  while (end > start && s.charCodeAt(end - 1) === 32) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** Whether `s` from `from` on is only spaces, or spaces then a comment. */
function onlyTrailingComment(s: string, from: number): boolean {
  let i = from;
  while (s.charCodeAt(i) === 32) i++;
  return i === s.length || (s.charCodeAt(i) === 35 /* # */ && i > from);
}

/**
 * A one-line flow collection of plain scalars: `[]`, `{}`, `[a, b]`,
 * `{ready: true, serving: true}`.
 */
function flowValue(text: string): unknown {
  const seq = text[0] === "[";
  const end = text.indexOf(seq ? "]" : "}");
  if (end < 0 || !onlyTrailingComment(text, end + 1)) return decline();
  const inner = text.slice(1, end);
  if (inner === "") return seq ? [] : {};
  const parts = inner.split(",");
  if (seq) return parts.map((part) => flowScalar(trimSpaces(part)));
  const map: Record<string, unknown> = {};
  for (const part of parts) {
    const pair = trimSpaces(part);
    const colon = pair.indexOf(": ");
    const key = pair.slice(0, colon);
    if (colon < 0 || !KEY.test(key) || NOT_PLAIN_KEYS.has(key)) return decline();
    setKey(map, key, flowScalar(trimSpaces(pair.slice(colon + 2))));
  }
  return map;
}

function flowScalar(text: string): unknown {
  if (FLOW_QUOTED.test(text)) return text.slice(1, -1);
  return FLOW_SCALAR.test(text) ? resolvePlain(text) : decline();
}

/** A value written on its key's (or dash's) line: a scalar, `[]` or `{}`. */
function inlineValue(text: string): unknown {
  const first = text[0];
  if (first === '"') {
    const end = text.indexOf('"', 1);
    if (end < 0 || !onlyTrailingComment(text, end + 1)) return decline();
    const content = text.slice(1, end);
    return content.includes("\\") ? decline() : content;
  }
  if (first === "'") {
    let end = text.indexOf("'", 1);
    while (end >= 0 && text[end + 1] === "'") end = text.indexOf("'", end + 2);
    if (end < 0 || !onlyTrailingComment(text, end + 1)) return decline();
    return text.slice(1, end).replaceAll("''", "'");
  }
  if (first === "[" || first === "{") return flowValue(text);
  if (!PLAIN_START.test(text)) return decline();
  const comment = text.indexOf(" #");
  const plain = trimSpaces(comment < 0 ? text : text.slice(0, comment));
  // `a: b: c` (an error) or a key of its own: the full parser says which.
  if (plain.includes(": ") || plain.endsWith(":")) return decline();
  return resolvePlain(plain);
}

/**
 * One document's lines [start, end) of the text's lines, parsed as block
 * YAML; `indents[i]` is line i's indentation (-1 for a blank or comment line).
 */
class DocumentParser {
  private i: number;
  /** Lines where the top-level `items` sequence's items start (a List's). */
  itemLines: number[] | undefined;

  constructor(
    private readonly texts: string[],
    private readonly indents: number[],
    start: number,
    private readonly end: number,
  ) {
    this.i = start;
    this.skip();
  }

  /** The line the document's content starts on (0-based), or -1 if it has none. */
  get first(): number {
    return this.i < this.end ? this.i : -1;
  }

  parse(): Record<string, unknown> {
    if (this.indents[this.i] !== 0) return decline();
    const value = this.map(0, true);
    if (this.i < this.end) decline();
    return value;
  }

  /** Moves past blank and comment lines. */
  private skip(): void {
    while (this.i < this.end && this.indents[this.i] < 0) this.i++;
  }

  /** The indentation of the next content line, or -1 at the end. */
  private nextIndent(): number {
    this.skip();
    return this.i < this.end ? this.indents[this.i] : -1;
  }

  private isItem(line: number): boolean {
    const text = this.texts[line];
    return text.charCodeAt(0) === 45 /* - */ && (text.length === 1 || text.charCodeAt(1) === 32);
  }

  /** A block mapping whose keys are at `indent`, starting at the current line. */
  private map(indent: number, top = false): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    while (this.i < this.end && this.indents[this.i] === indent) {
      const text = this.texts[this.i];
      const colon = text.indexOf(":");
      if (colon < 0) return decline();
      const key = text.slice(0, colon);
      if (!KEY.test(key) || NOT_PLAIN_KEYS.has(key)) return decline();
      const after = text.charCodeAt(colon + 1);
      if (!Number.isNaN(after) && after !== 32) return decline(); // `a:b` is a scalar, not a pair
      const rest = trimSpaces(text.slice(colon + 1));
      this.i++;
      let value: unknown;
      if (rest === "" || rest[0] === "#") {
        const next = this.nextIndent();
        if (next > indent) value = this.block(next, top && key === "items");
        else if (next === indent && this.isItem(this.i)) value = this.seq(indent, top && key === "items");
        else value = null;
      } else {
        value = inlineValue(rest);
        if (this.nextIndent() > indent) decline(); // a multi-line scalar, or an error
      }
      setKey(map, key, value);
    }
    if (this.i < this.end && this.indents[this.i] > indent) decline();
    return map;
  }

  /** A mapping or sequence starting at the current line, at `indent`. */
  private block(indent: number, items: boolean): unknown {
    return this.isItem(this.i) ? this.seq(indent, items) : items ? decline() : this.map(indent);
  }

  /** A block sequence whose dashes are at `indent`; with `items`, notes where each item starts. */
  private seq(indent: number, items: boolean): unknown[] {
    const seq: unknown[] = [];
    const lines: number[] = [];
    while (this.i < this.end && this.indents[this.i] === indent && this.isItem(this.i)) {
      const line = this.i;
      const text = this.texts[line];
      let offset = 1;
      while (text.charCodeAt(offset) === 32) offset++;
      const rest = text.slice(offset);
      if (rest === "" || rest[0] === "#") {
        this.i++;
        const next = this.nextIndent();
        if (next <= indent) decline(); // a null item: its line is the full parser's business
        lines.push(this.i);
        seq.push(items ? (this.isItem(this.i) ? decline() : this.map(next)) : this.block(next, false));
        continue;
      }
      if (rest[0] === "-" && (rest.length === 1 || rest[1] === " ")) decline(); // `- - x`
      lines.push(line);
      if (this.isPair(rest)) {
        // `- key: value`: a mapping whose keys are at the column of the first.
        this.texts[line] = rest;
        this.indents[line] = indent + offset;
        seq.push(this.map(indent + offset));
      } else {
        if (items) decline(); // a List item that is not a mapping
        this.i++;
        seq.push(inlineValue(rest));
        if (this.nextIndent() > indent) decline();
      }
    }
    if (this.i < this.end && this.indents[this.i] > indent) decline();
    if (items) this.itemLines = lines;
    return seq;
  }

  /** Whether a dash's rest starts a mapping (`key:` then space or end). */
  private isPair(text: string): boolean {
    const colon = text.indexOf(":");
    if (colon < 0 || !KEY.test(text.slice(0, colon))) return false;
    return colon + 1 === text.length || text.charCodeAt(colon + 1) === 32;
  }
}

/**
 * parseManifestValues's result for `text`, or undefined if it is not in the
 * fast path's subset (then only the full parser can say).
 */
export function fastParseManifestValues(text: string, fileName: string): ParsedManifestValues | undefined {
  if (UNUSUAL.test(text)) return undefined;
  const texts = text.split("\n");
  const indents = new Array<number>(texts.length);
  const separators: number[] = [];
  for (let n = 0; n < texts.length; n++) {
    const line = texts[n];
    let indent = 0;
    while (line.charCodeAt(indent) === 32) indent++;
    if (indent === line.length || line.charCodeAt(indent) === 35 /* # */) {
      indents[n] = -1;
      continue;
    }
    if (indent === 0) {
      const c = line.charCodeAt(0);
      if (c === 45 /* - */ || c === 46 /* . */ || c === 37 /* % */) {
        if (/^---[ ]*$/.test(line)) {
          separators.push(n);
          indents[n] = -1;
          continue;
        }
        if (line.startsWith("---") || line.startsWith("...") || c === 37) return undefined;
      }
    }
    indents[n] = indent;
    texts[n] = indent === 0 ? line : line.slice(indent);
  }
  separators.push(texts.length);
  const values: ManifestValue[] = [];
  try {
    let start = 0;
    for (const end of separators) {
      const doc = new DocumentParser(texts, indents, start, end);
      start = end + 1;
      const first = doc.first;
      if (first < 0) continue; // empty: the full parser leaves it out too
      const value = doc.parse();
      // `kind: List` (kubectl get -o yaml) and typed lists such as ServiceList, flattened as the full parser does.
      if (typeof value.kind === "string" && value.kind.endsWith("List") && Array.isArray(value.items)) {
        const lines = value.items.length > 0 ? doc.itemLines : [];
        if (!lines) return undefined;
        value.items.forEach((item: unknown, index: number) => values.push({ value: item, file: fileName, line: lines[index] + 1, item: index }));
      } else values.push({ value, file: fileName, line: first + 1 });
    }
  } catch (err) {
    if (err instanceof Decline) return undefined;
    throw err;
  }
  return { values, errors: [] };
}
