/**
 * The pure evaluator: for each capability (in dependency order) the highest-priority rule whose
 * condition holds wins. Patterns' requires/excludes are then checked; the rule whose pattern breaks
 * one is set aside and the next rule by priority takes over, until the plan is consistent.
 */
import { evaluate, formatValue, type Resolver, renderTemplate, truthy, type Value } from "./expr.js";
import type { CompiledRule, RuleSet } from "./load.js";

export interface EngineDecision {
  capability: string;
  choice: string;
  rule: CompiledRule;
  because: string;
  alternatives: Array<{ choice: string; rejectedBecause: string }>;
  params: Record<string, unknown>;
  decidedBy: "rules" | "advisor";
}

export interface DecisionTrace {
  /** rules whose condition held, highest priority first */
  matched: string[];
  /** rules set aside because their pattern conflicted with another decision */
  setAside: Array<{ rule: string; reason: string }>;
}

export interface EngineResult {
  decisions: Map<string, EngineDecision>;
  traces: Map<string, DecisionTrace>;
}

export class ConflictError extends Error {
  override readonly name = "ConflictError";
  constructor(
    message: string,
    readonly ruleIds: string[],
  ) {
    super(message);
  }
}

export interface DecideOptions {
  /** advisor picks: honoured only where the winning rule lists the pick in openChoices */
  picks?: ReadonlyMap<string, string>;
  /** the advisor's reason per picked capability, shown as the decision's `because` */
  reasons?: ReadonlyMap<string, string>;
}

export function decide(ruleSet: RuleSet, resolveInput: Resolver, options: DecideOptions = {}): EngineResult {
  const setAside = new Map<string, Array<{ rule: string; reason: string }>>();
  const banned = new Set<string>();
  const maxRounds = [...ruleSet.rules.values()].reduce((n, list) => n + list.length, 1);
  for (let round = 0; round < maxRounds; round++) {
    const chosen = new Map<string, { rule: CompiledRule; choice: string; matched: string[] }>();
    const resolve: Resolver = (path) => {
      if (path.startsWith("decision.")) return chosen.get(path.slice("decision.".length))?.choice ?? null;
      return resolveInput(path);
    };
    for (const capability of ruleSet.order) {
      const candidates = (ruleSet.rules.get(capability) ?? []).filter(
        (rule) =>
          !banned.has(rule.id) && (rule.condition === null || truthy(evaluate(rule.condition, resolve))),
      );
      const winner = candidates[0];
      if (!winner) {
        const ids = (setAside.get(capability) ?? []).map((s) => s.rule);
        throw new ConflictError(
          `no rule left for ${capability} after conflicts set aside ${ids.join(", ")}`,
          ids,
        );
      }
      const pick = options.picks?.get(capability);
      const choice = pick && winner.openChoices?.includes(pick) ? pick : winner.choice;
      chosen.set(capability, { rule: winner, choice, matched: candidates.map((r) => r.id) });
    }

    const violation = findViolation(ruleSet, chosen);
    if (!violation) return finish(ruleSet, chosen, resolve, setAside, options);
    const loser = chosen.get(violation.capability)!;
    if (loser.rule.condition === null) {
      const other = chosen.get(violation.otherCapability)?.rule.id;
      throw new ConflictError(
        `rules ${loser.rule.id} and ${other} cannot both hold: ${violation.reason}`,
        [loser.rule.id, other ?? ""].filter(Boolean),
      );
    }
    banned.add(loser.rule.id);
    const list = setAside.get(violation.capability) ?? [];
    list.push({ rule: loser.rule.id, reason: violation.reason });
    setAside.set(violation.capability, list);
  }
  throw new ConflictError("conflict resolution did not converge", [...banned]);
}

function findViolation(
  ruleSet: RuleSet,
  chosen: Map<string, { rule: CompiledRule; choice: string }>,
): { capability: string; otherCapability: string; reason: string } | undefined {
  for (const capability of ruleSet.order) {
    const { choice } = chosen.get(capability)!;
    const pattern = ruleSet.catalog.capabilities[capability].patterns[choice];
    for (const ref of pattern.requires) {
      const [other, allowed] = ref.split("=");
      const actual = chosen.get(other)?.choice;
      if (!allowed.split("|").includes(actual ?? "")) {
        return {
          capability,
          otherCapability: other,
          reason: `${capability}=${choice} requires ${ref}, but ${other} is ${actual}`,
        };
      }
    }
    for (const ref of pattern.excludes) {
      const [other, banned] = ref.split("=");
      const actual = chosen.get(other)?.choice;
      if (banned.split("|").includes(actual ?? "")) {
        return { capability, otherCapability: other, reason: `${capability}=${choice} excludes ${ref}` };
      }
    }
  }
  return undefined;
}

function finish(
  ruleSet: RuleSet,
  chosen: Map<string, { rule: CompiledRule; choice: string; matched: string[] }>,
  resolve: Resolver,
  setAside: Map<string, Array<{ rule: string; reason: string }>>,
  options: DecideOptions,
): EngineResult {
  const decisions = new Map<string, EngineDecision>();
  const traces = new Map<string, DecisionTrace>();
  for (const capability of ruleSet.capabilities) {
    const { rule, choice, matched } = chosen.get(capability)!;
    const byAdvisor = choice !== rule.choice;
    // a rule's parameters configure its own choice; an advisor's different pick starts from defaults
    const params: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(byAdvisor ? {} : rule.params).sort(([a], [b]) =>
      a < b ? -1 : 1,
    )) {
      params[key] =
        key in rule.paramExpressions ? roundParam(evaluate(rule.paramExpressions[key], resolve)) : value;
    }
    const alternatives = rule.alternatives
      .filter((alt) => alt.choice !== choice)
      .map((alt) => ({ choice: alt.choice, rejectedBecause: renderTemplate(alt.rejectedBecause, resolve) }));
    if (byAdvisor) {
      alternatives.unshift({
        choice: rule.choice,
        rejectedBecause: `the rules' default; the advisor picked ${choice} among the open choices ${formatValue(rule.openChoices ?? [])}`,
      });
    }
    decisions.set(capability, {
      capability,
      choice,
      rule,
      because: byAdvisor
        ? `${options.reasons?.get(capability) ?? "picked by the advisor"} (advisor's pick among ${formatValue(rule.openChoices ?? [])}; rule ${rule.id} would choose ${rule.choice})`
        : renderTemplate(rule.because, resolve),
      alternatives,
      params,
      decidedBy: byAdvisor && options.picks?.has(capability) ? "advisor" : "rules",
    });
    traces.set(capability, { matched, setAside: setAside.get(capability) ?? [] });
  }
  return { decisions, traces };
}

function roundParam(value: Value): Value {
  return typeof value === "number" && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value;
}

/**
 * The rule that decides one capability on its own: the highest-priority rule whose condition holds, with no
 * conflict resolution. Only for a capability whose rules read no other decision (the plan uses it to
 * pick defaults that follow the serving mode before the full evaluation); anything else is refused.
 */
export function decideCapability(ruleSet: RuleSet, capability: string, resolve: Resolver): CompiledRule {
  const rules = ruleSet.rules.get(capability) ?? [];
  const dependent = rules.find((rule) => rule.dependsOn.length > 0);
  if (dependent) {
    throw new Error(
      `${capability} cannot be decided on its own: rule ${dependent.id} reads decision.${dependent.dependsOn[0]}`,
    );
  }
  const winner = rules.find((rule) => rule.condition === null || truthy(evaluate(rule.condition, resolve)));
  if (!winner) throw new ConflictError(`no rule decides ${capability}`, []);
  return winner;
}
