/**
 * Label selectors for BGPPeer.nodeSelector: Calico's selector language
 * (`key == 'v'`, `key != 'v'`, `has(key)`, `!has(key)`, `key in {'a','b'}`,
 * `key not in {...}`, `contains`, `starts with`, `ends with`, `all()`, `&&`,
 * `||`, `!`, parentheses) and, as a fallback, Kubernetes set-based syntax
 * (`k=v,k2!=v2,k,!k,k in (a,b),k notin (a,b)`), so either form works.
 */

export type Labels = Readonly<Record<string, string>>;
type Predicate = (labels: Labels) => boolean;

export interface Selector {
  readonly text: string;
  matches(labels: Labels | undefined): boolean;
}

export type SelectorParseResult = { ok: true; selector: Selector } | { ok: false; reason: string };

class SelectorSyntaxError extends Error {}

const KEY = /[A-Za-z0-9_.\-/]+/y;
const WORD_END = /[A-Za-z0-9_.\-/]/;

/** Recursive-descent parser over Calico's grammar. */
class CalicoParser {
  private pos = 0;
  constructor(private readonly src: string) {}

  parse(): Predicate {
    const predicate = this.or();
    this.space();
    if (this.pos < this.src.length) this.fail(`unexpected "${this.src.slice(this.pos)}"`);
    return predicate;
  }

  private fail(message: string): never {
    throw new SelectorSyntaxError(`${message} at offset ${this.pos}`);
  }

  private space(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos])) this.pos++;
  }

  private eat(token: string): boolean {
    this.space();
    if (!this.src.startsWith(token, this.pos)) return false;
    // Keywords must not be a prefix of a longer key ("in" vs "index").
    if (/[a-z]$/.test(token) && WORD_END.test(this.src[this.pos + token.length] ?? "")) return false;
    this.pos += token.length;
    return true;
  }

  private expect(token: string): void {
    if (!this.eat(token)) this.fail(`expected "${token}"`);
  }

  private or(): Predicate {
    const parts = [this.and()];
    while (this.eat("||")) parts.push(this.and());
    return parts.length === 1 ? parts[0] : (labels) => parts.some((p) => p(labels));
  }

  private and(): Predicate {
    const parts = [this.unary()];
    while (this.eat("&&")) parts.push(this.unary());
    return parts.length === 1 ? parts[0] : (labels) => parts.every((p) => p(labels));
  }

  private unary(): Predicate {
    if (this.eat("!")) {
      const inner = this.unary();
      return (labels) => !inner(labels);
    }
    if (this.eat("(")) {
      const inner = this.or();
      this.expect(")");
      return inner;
    }
    return this.primary();
  }

  private key(): string {
    this.space();
    KEY.lastIndex = this.pos;
    const match = KEY.exec(this.src);
    if (!match) this.fail("expected a label key");
    this.pos = KEY.lastIndex;
    return match[0];
  }

  private string(): string {
    this.space();
    const quote = this.src[this.pos];
    if (quote !== "'" && quote !== '"') this.fail("expected a quoted string");
    const end = this.src.indexOf(quote, this.pos + 1);
    if (end < 0) this.fail("unterminated string");
    const value = this.src.slice(this.pos + 1, end);
    this.pos = end + 1;
    return value;
  }

  private set(): Set<string> {
    this.expect("{");
    const values = new Set<string>();
    if (this.eat("}")) return values;
    do values.add(this.string());
    while (this.eat(","));
    this.expect("}");
    return values;
  }

  private primary(): Predicate {
    if (this.eat("all()")) return () => true;
    // global() selects non-namespaced resources; every node is one.
    if (this.eat("global()")) return () => true;
    if (this.eat("has(")) {
      const key = this.key();
      this.expect(")");
      return (labels) => Object.hasOwn(labels, key);
    }
    const key = this.key();
    if (this.eat("==")) {
      const value = this.string();
      return (labels) => labels[key] === value;
    }
    if (this.eat("!=")) {
      const value = this.string();
      return (labels) => labels[key] !== value;
    }
    if (this.eat("not")) {
      this.expect("in");
      const values = this.set();
      return (labels) => !(Object.hasOwn(labels, key) && values.has(labels[key]));
    }
    if (this.eat("in")) {
      const values = this.set();
      return (labels) => Object.hasOwn(labels, key) && values.has(labels[key]);
    }
    if (this.eat("contains")) {
      const value = this.string();
      return (labels) => Object.hasOwn(labels, key) && labels[key].includes(value);
    }
    if (this.eat("starts")) {
      this.expect("with");
      const value = this.string();
      return (labels) => Object.hasOwn(labels, key) && labels[key].startsWith(value);
    }
    if (this.eat("ends")) {
      this.expect("with");
      const value = this.string();
      return (labels) => Object.hasOwn(labels, key) && labels[key].endsWith(value);
    }
    return this.fail(`expected an operator after "${key}"`);
  }
}

const K8S_KEY = "[A-Za-z0-9_.\\-/]+";
const K8S_VALUE = "[A-Za-z0-9_.\\-]*";
const K8S_EQ = new RegExp(`^(${K8S_KEY})\\s*(==|=|!=)\\s*(${K8S_VALUE})$`);
const K8S_SET = new RegExp(`^(${K8S_KEY})\\s+(in|notin)\\s+\\(([^)]*)\\)$`);
const K8S_EXISTS = new RegExp(`^(!?)\\s*(${K8S_KEY})$`);

/** Kubernetes label selector string syntax. */
function parseKubernetes(src: string): Predicate | undefined {
  // Split on commas outside parentheses.
  const requirements: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < src.length; i++) {
    if (src[i] === "(") depth++;
    else if (src[i] === ")") depth--;
    else if (src[i] === "," && depth === 0) {
      requirements.push(src.slice(start, i).trim());
      start = i + 1;
    }
  }
  requirements.push(src.slice(start).trim());
  const parts: Predicate[] = [];
  for (const requirement of requirements) {
    let match = K8S_EQ.exec(requirement);
    if (match) {
      const [, key, op, value] = match;
      parts.push(op === "!=" ? (l) => l[key] !== value : (l) => l[key] === value);
      continue;
    }
    match = K8S_SET.exec(requirement);
    if (match) {
      const [, key, op, list] = match;
      const values = new Set(list.split(",").map((v) => v.trim()));
      parts.push(
        op === "in"
          ? (l) => Object.hasOwn(l, key) && values.has(l[key])
          : (l) => !(Object.hasOwn(l, key) && values.has(l[key])),
      );
      continue;
    }
    match = K8S_EXISTS.exec(requirement);
    if (match) {
      const [, not, key] = match;
      parts.push(not ? (l) => !Object.hasOwn(l, key) : (l) => Object.hasOwn(l, key));
      continue;
    }
    return undefined;
  }
  return (labels) => parts.every((p) => p(labels));
}

/** Parses a node selector. An empty selector matches everything. */
export function parseSelector(text: string): SelectorParseResult {
  const src = text.trim();
  let predicate: Predicate | undefined;
  if (src === "") predicate = () => true;
  else {
    try {
      predicate = new CalicoParser(src).parse();
    } catch (error) {
      predicate = parseKubernetes(src);
      if (!predicate) {
        const detail = error instanceof SelectorSyntaxError ? error.message : String(error);
        return { ok: false, reason: `invalid selector "${text}": ${detail}` };
      }
    }
  }
  const match = predicate;
  return { ok: true, selector: { text, matches: (labels) => match(labels ?? {}) } };
}
