/**
 * The condition and parameter language of rule files: a small, safe expression form parsed by a
 * recursive-descent parser and evaluated over a read-only context. No `eval`, no property access
 * beyond dotted paths, no loops, a fixed set of pure functions.
 *
 *   inference.mode in ['auto', 'realtime'] and inference.latencyP99Ms <= 1000
 *   intersects(data.sources, ['kafka', 'kinesis']) or decision.serving.mode == 'streaming'
 *   min(20, round(inference.latencyP99Ms * 0.15))
 */

export type Value = number | string | boolean | null | readonly Value[];

export type Expr =
  | { kind: "literal"; value: Value }
  | { kind: "list"; items: Expr[] }
  | { kind: "path"; path: string }
  | { kind: "call"; name: FunctionName; args: Expr[] }
  | { kind: "unary"; op: "not" | "-"; operand: Expr }
  | { kind: "binary"; op: BinaryOp; left: Expr; right: Expr };

type BinaryOp =
  | "or"
  | "and"
  | "=="
  | "!="
  | "<"
  | "<="
  | ">"
  | ">="
  | "in"
  | "not in"
  | "+"
  | "-"
  | "*"
  | "/";

const FUNCTIONS = {
  /** if(condition, then, else): the only conditional; both branches are evaluated (they are pure) */
  if: (cond: Value, then: Value, otherwise: Value) => (truthy(cond) ? then : otherwise),
  min: (...xs: Value[]) => Math.min(...xs.map(num)),
  max: (...xs: Value[]) => Math.max(...xs.map(num)),
  ceil: (x: Value) => Math.ceil(num(x)),
  floor: (x: Value) => Math.floor(num(x)),
  round: (x: Value) => Math.round(num(x)),
  len: (x: Value) => (Array.isArray(x) ? x.length : typeof x === "string" ? x.length : 0),
  intersects: (a: Value, b: Value) => Array.isArray(a) && Array.isArray(b) && a.some((x) => b.includes(x)),
  coalesce: (...xs: Value[]) => xs.find((x) => x !== null) ?? null,
} satisfies Record<string, (...args: Value[]) => Value>;
type FunctionName = keyof typeof FUNCTIONS;
export const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];

export class ExpressionError extends Error {
  override readonly name = "ExpressionError";
}

function num(value: Value): number {
  if (typeof value !== "number")
    throw new ExpressionError(`expected a number, found ${JSON.stringify(value)}`);
  return value;
}

type Token =
  | { type: "num"; value: number; at: number }
  | { type: "str"; value: string; at: number }
  | { type: "ident"; value: string; at: number }
  | { type: "op"; value: string; at: number }
  | { type: "end"; at: number };

const KEYWORDS = new Set(["and", "or", "not", "in", "true", "false", "null"]);

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === "." && /[0-9]/.test(source[i + 1] ?? ""))) {
      const match = /^[0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?/i.exec(source.slice(i))!;
      tokens.push({ type: "num", value: Number(match[0]), at: i });
      i += match[0].length;
      continue;
    }
    if (ch === "'" || ch === '"') {
      const end = source.indexOf(ch, i + 1);
      if (end < 0) throw new ExpressionError(`unterminated string starting at column ${i + 1}`);
      tokens.push({ type: "str", value: source.slice(i + 1, end), at: i });
      i = end + 1;
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      const match = /^[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*/.exec(source.slice(i))!;
      tokens.push({ type: "ident", value: match[0], at: i });
      i += match[0].length;
      continue;
    }
    const two = source.slice(i, i + 2);
    if (["==", "!=", "<=", ">="].includes(two)) {
      tokens.push({ type: "op", value: two, at: i });
      i += 2;
      continue;
    }
    if ("<>()[],+-*/".includes(ch)) {
      tokens.push({ type: "op", value: ch, at: i });
      i++;
      continue;
    }
    throw new ExpressionError(`unexpected character "${ch}" at column ${i + 1}`);
  }
  tokens.push({ type: "end", at: source.length });
  return tokens;
}

/** Parses an expression; syntax errors name the column. */
export function parseExpression(source: string): Expr {
  const tokens = tokenize(source);
  let pos = 0;
  const peek = () => tokens[pos];
  const isOp = (value: string) => {
    const t = peek();
    return (t.type === "op" || t.type === "ident") && t.value === value;
  };
  const expect = (value: string) => {
    if (!isOp(value)) throw new ExpressionError(`expected "${value}" at column ${peek().at + 1}`);
    pos++;
  };

  const parseOr = (): Expr => {
    let left = parseAnd();
    while (isOp("or")) {
      pos++;
      left = { kind: "binary", op: "or", left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): Expr => {
    let left = parseNot();
    while (isOp("and")) {
      pos++;
      left = { kind: "binary", op: "and", left, right: parseNot() };
    }
    return left;
  };
  const parseNot = (): Expr => {
    if (isOp("not")) {
      pos++;
      return { kind: "unary", op: "not", operand: parseNot() };
    }
    return parseComparison();
  };
  const parseComparison = (): Expr => {
    const left = parseSum();
    for (const op of ["==", "!=", "<=", ">=", "<", ">", "in"] as const) {
      if (isOp(op)) {
        pos++;
        return { kind: "binary", op, left, right: parseSum() };
      }
    }
    if (isOp("not") && (tokens[pos + 1] as { value?: string }).value === "in") {
      pos += 2;
      return { kind: "binary", op: "not in", left, right: parseSum() };
    }
    return left;
  };
  const parseSum = (): Expr => {
    let left = parseProduct();
    while (isOp("+") || isOp("-")) {
      const op = peek().type === "op" ? ((peek() as { value: string }).value as "+" | "-") : "+";
      pos++;
      left = { kind: "binary", op, left, right: parseProduct() };
    }
    return left;
  };
  const parseProduct = (): Expr => {
    let left = parseUnary();
    while (isOp("*") || isOp("/")) {
      const op = (peek() as { value: string }).value as "*" | "/";
      pos++;
      left = { kind: "binary", op, left, right: parseUnary() };
    }
    return left;
  };
  const parseUnary = (): Expr => {
    if (isOp("-")) {
      pos++;
      return { kind: "unary", op: "-", operand: parseUnary() };
    }
    return parsePrimary();
  };
  const parsePrimary = (): Expr => {
    const token = peek();
    if (token.type === "num" || token.type === "str") {
      pos++;
      return { kind: "literal", value: token.value };
    }
    if (token.type === "op" && token.value === "(") {
      pos++;
      const inner = parseOr();
      expect(")");
      return inner;
    }
    if (token.type === "op" && token.value === "[") {
      pos++;
      const items: Expr[] = [];
      while (!isOp("]")) {
        items.push(parseOr());
        if (!isOp("]")) expect(",");
      }
      pos++;
      return { kind: "list", items };
    }
    if (token.type === "ident") {
      pos++;
      if (token.value === "true" || token.value === "false")
        return { kind: "literal", value: token.value === "true" };
      if (token.value === "null") return { kind: "literal", value: null };
      if (KEYWORDS.has(token.value))
        throw new ExpressionError(`unexpected "${token.value}" at column ${token.at + 1}`);
      if (isOp("(")) {
        if (!(token.value in FUNCTIONS)) {
          throw new ExpressionError(
            `unknown function "${token.value}"; allowed: ${FUNCTION_NAMES.join(", ")}`,
          );
        }
        pos++;
        const args: Expr[] = [];
        while (!isOp(")")) {
          args.push(parseOr());
          if (!isOp(")")) expect(",");
        }
        pos++;
        return { kind: "call", name: token.value as FunctionName, args };
      }
      return { kind: "path", path: token.value };
    }
    throw new ExpressionError(
      token.type === "end"
        ? "unexpected end of expression"
        : `unexpected "${(token as { value: string }).value}" at column ${token.at + 1}`,
    );
  };

  const expr = parseOr();
  if (peek().type !== "end") throw new ExpressionError(`unexpected text at column ${peek().at + 1}`);
  return expr;
}

/** Every dotted path an expression reads: used to check rule files against the known inputs at load. */
export function referencedPaths(expr: Expr, out: Set<string> = new Set()): Set<string> {
  switch (expr.kind) {
    case "path":
      out.add(expr.path);
      break;
    case "list":
      for (const item of expr.items) referencedPaths(item, out);
      break;
    case "call":
      for (const arg of expr.args) referencedPaths(arg, out);
      break;
    case "unary":
      referencedPaths(expr.operand, out);
      break;
    case "binary":
      referencedPaths(expr.left, out);
      referencedPaths(expr.right, out);
      break;
  }
  return out;
}

export type Resolver = (path: string) => Value | undefined;

export function evaluate(expr: Expr, resolve: Resolver): Value {
  switch (expr.kind) {
    case "literal":
      return expr.value;
    case "list":
      return expr.items.map((item) => evaluate(item, resolve));
    case "path": {
      const value = resolve(expr.path);
      if (value === undefined) throw new ExpressionError(`unknown input "${expr.path}"`);
      return value;
    }
    case "call":
      return (FUNCTIONS[expr.name] as (...args: Value[]) => Value)(
        ...expr.args.map((arg) => evaluate(arg, resolve)),
      );
    case "unary": {
      const operand = evaluate(expr.operand, resolve);
      return expr.op === "not" ? !truthy(operand) : -num(operand);
    }
    case "binary":
      return evaluateBinary(expr.op, expr.left, expr.right, resolve);
  }
}

function evaluateBinary(op: BinaryOp, leftExpr: Expr, rightExpr: Expr, resolve: Resolver): Value {
  if (op === "and") return truthy(evaluate(leftExpr, resolve)) && truthy(evaluate(rightExpr, resolve));
  if (op === "or") return truthy(evaluate(leftExpr, resolve)) || truthy(evaluate(rightExpr, resolve));
  const left = evaluate(leftExpr, resolve);
  const right = evaluate(rightExpr, resolve);
  switch (op) {
    case "==":
      return equal(left, right);
    case "!=":
      return !equal(left, right);
    case "<":
    case "<=":
    case ">":
    case ">=": {
      // Comparisons with null (an unset optional field) are false rather than errors.
      if (left === null || right === null) return false;
      const [a, b] = [num(left), num(right)];
      return op === "<" ? a < b : op === "<=" ? a <= b : op === ">" ? a > b : a >= b;
    }
    case "in":
    case "not in": {
      const found = Array.isArray(right)
        ? right.some((item) => equal(item, left))
        : typeof right === "string" && typeof left === "string" && right.includes(left);
      return op === "in" ? found : !found;
    }
    case "+":
      // strings concatenate (for readable `because` texts); numbers add
      if (typeof left === "string" || typeof right === "string")
        return formatValue(left) + formatValue(right);
      return num(left) + num(right);
    case "-":
      return num(left) - num(right);
    case "*":
      return num(left) * num(right);
    case "/":
      return num(right) === 0 ? 0 : num(left) / num(right);
  }
}

function equal(a: Value, b: Value): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  return a === b;
}

export function truthy(value: Value): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return value !== null && value !== false && value !== 0 && value !== "";
}

/** Renders `{expression}` placeholders in a `because` template; numbers print without float noise. */
export function renderTemplate(template: string, resolve: Resolver): string {
  return template.replace(/\{([^{}]+)\}/g, (_, source: string) =>
    formatValue(evaluate(parseExpression(source), resolve)),
  );
}

/**
 * The string values an expression tests a list path against: `'x' in path`, `'x' not in path` and
 * `intersects(path, ['x', 'y'])` (either order). What the rules can tell apart in that list (the team's
 * tools in `facts.tools`).
 */
export function valuesTestedIn(expr: Expr, path: string, out: Set<string> = new Set()): Set<string> {
  const isPath = (e: Expr) => e.kind === "path" && e.path === path;
  const literals = (e: Expr) =>
    e.kind === "list"
      ? e.items.flatMap((i) => (i.kind === "literal" && typeof i.value === "string" ? [i.value] : []))
      : [];
  switch (expr.kind) {
    case "binary":
      if ((expr.op === "in" || expr.op === "not in") && isPath(expr.right) && expr.left.kind === "literal")
        if (typeof expr.left.value === "string") out.add(expr.left.value);
      valuesTestedIn(expr.left, path, out);
      valuesTestedIn(expr.right, path, out);
      break;
    case "call":
      if (expr.name === "intersects" && expr.args.some(isPath))
        for (const arg of expr.args) for (const value of literals(arg)) out.add(value);
      for (const arg of expr.args) valuesTestedIn(arg, path, out);
      break;
    case "unary":
      valuesTestedIn(expr.operand, path, out);
      break;
    case "list":
      for (const item of expr.items) valuesTestedIn(item, path, out);
      break;
    default:
      break;
  }
  return out;
}

export function templateExpressions(template: string): Expr[] {
  return [...template.matchAll(/\{([^{}]+)\}/g)].map((match) => parseExpression(match[1]));
}

export function formatValue(value: Value): string {
  if (Array.isArray(value)) return value.length === 0 ? "none" : value.map(formatValue).join(", ");
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    // small values keep two significant digits ("0.011 ms"), others two decimals
    return Math.abs(value) < 1 ? String(Number(value.toPrecision(2))) : String(Math.round(value * 100) / 100);
  }
  if (value === null) return "none";
  return String(value);
}
