/**
 * The one disk read of the engine: rules/ (patterns, decision rules, controls, prices, regions) are
 * parsed, schema-checked and cross-checked at start. A rule set that leaves a capability undecided,
 * decides it twice at equal priority, names an unknown choice or input, or has a dependency cycle is
 * refused with every problem and the rule ids involved.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { CORE_SCHEMA, load } from "js-yaml";

const parseYaml = (text: string): unknown => load(text, { schema: CORE_SCHEMA });

import type { z } from "zod";
import { sha256 } from "../util/canonical.js";
import { packagePath } from "../util/package.js";
import {
  type Expr,
  ExpressionError,
  parseExpression,
  referencedPaths,
  templateExpressions,
  valuesTestedIn,
} from "./expr.js";
import {
  type ControlCatalog,
  type ModelCatalog,
  type PatternCatalog,
  type PriceTable,
  type PriceTableFile,
  type RegionCatalog,
  type RuleDefinition,
  ruleFileSchemas,
} from "./schema.js";

export interface CompiledRule extends RuleDefinition {
  file: string;
  condition: Expr | null;
  /** capabilities whose decision this rule reads (`decision.<capability>`) */
  dependsOn: string[];
  paramExpressions: Record<string, Expr>;
}

export interface RuleSet {
  dir: string;
  hash: string;
  version: string;
  catalog: PatternCatalog;
  capabilities: string[];
  /** rules per capability, highest priority first */
  rules: Map<string, CompiledRule[]>;
  /** capabilities in an order where every `decision.X` a rule reads is decided before it */
  order: string[];
  controls: ControlCatalog[];
  prices: Map<string, PriceTable>;
  regions: RegionCatalog;
  /** rules/models.yaml: the architectures model.architecture may name */
  models: ModelCatalog;
  files: string[];
  /** the tools some rule tells apart in `facts.tools` (the team's existing tools it can reuse), sorted */
  knownTools: string[];
}

export interface RuleSetProblem {
  file: string;
  message: string;
  ruleIds: string[];
}

export class RuleSetError extends Error {
  override readonly name = "RuleSetError";
  constructor(readonly problems: RuleSetProblem[]) {
    super(`the rule set has ${problems.length} problem${problems.length === 1 ? "" : "s"}`);
  }
}

export interface LoadOptions {
  dir?: string;
  /**
   * Input paths rules may read besides `decision.<capability>`. An entry ending in ".*" admits any
   * path under it. When absent, paths are not checked (the planner always passes its list).
   */
  knownInputs?: readonly string[] | (() => readonly string[]);
  /** a snapshot written by the build (scripts/snapshot-rules.js); used only when its hash matches the files */
  snapshot?: string;
}

/** rules/ of the installed package. */
export function defaultRulesDir(): string {
  return packagePath("rules");
}

function listYaml(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listYaml(path));
    else if (entry.name.endsWith(".yaml") || entry.name.endsWith(".yml")) out.push(path);
  }
  return out;
}

/** The rule files' validated content: what the build snapshots so a cold start skips YAML and schema checks. */
export interface ValidatedRuleFiles {
  hash: string;
  files: string[];
  catalog?: PatternCatalog;
  regions?: RegionCatalog;
  models?: ModelCatalog;
  controls: ControlCatalog[];
  prices: Array<[string, PriceTableFile]>;
  definitions: Array<RuleDefinition & { file: string }>;
  problems: RuleSetProblem[];
}

function readRuleFiles(dir: string): { texts: Map<string, string>; hash: string } {
  const texts = new Map<string, string>();
  for (const file of listYaml(dir)) texts.set(relative(dir, file), readFileSync(file, "utf8"));
  const hashInput = [...texts.entries()].map(([rel, text]) => `${rel}\n${sha256(text)}`).join("\n");
  return { texts, hash: sha256(hashInput) };
}

/** Parses and schema-checks every rule file (the slow part of loading). */
export function validateRuleFiles(dir: string): ValidatedRuleFiles {
  const { texts, hash } = readRuleFiles(dir);
  return validateTexts(texts, hash);
}

function validateTexts(texts: Map<string, string>, hash: string): ValidatedRuleFiles {
  const problems: RuleSetProblem[] = [];
  const docs = new Map<string, unknown>();
  for (const [rel, text] of texts) {
    try {
      docs.set(rel, parseYaml(text));
    } catch (error) {
      problems.push({ file: rel, message: `YAML: ${(error as Error).message.split("\n")[0]}`, ruleIds: [] });
    }
  }

  const {
    controlFileSchema,
    modelCatalogSchema,
    patternCatalogSchema,
    priceTableSchema,
    regionFileSchema,
    ruleFileSchema,
  } = ruleFileSchemas();
  const check = <S extends z.ZodType>(rel: string, schema: S): z.output<S> | undefined => {
    const result = schema.safeParse(docs.get(rel));
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      problems.push({
        file: rel,
        message: `${issue.path.join(".") || "(file)"}: ${issue.message}`,
        ruleIds: [],
      });
    }
    return undefined;
  };

  const kindOf = (rel: string) => (docs.get(rel) as { kind?: string } | null)?.kind;
  let catalog: PatternCatalog | undefined;
  let regions: RegionCatalog | undefined;
  let models: ModelCatalog | undefined;
  const controls: ControlCatalog[] = [];
  const prices = new Map<string, PriceTableFile>();
  const definitions: Array<RuleDefinition & { file: string }> = [];

  for (const rel of texts.keys()) {
    if (!docs.has(rel)) continue;
    switch (kindOf(rel)) {
      case "PatternCatalog":
        catalog = check(rel, patternCatalogSchema);
        break;
      case "DecisionRules":
        for (const rule of check(rel, ruleFileSchema)?.rules ?? []) definitions.push({ ...rule, file: rel });
        break;
      case "ControlCatalog": {
        const parsed = check(rel, controlFileSchema);
        if (parsed) controls.push(parsed);
        break;
      }
      case "PriceTable": {
        const parsed = check(rel, priceTableSchema);
        if (parsed) prices.set(parsed.cloud, parsed);
        break;
      }
      case "Regions":
        regions = check(rel, regionFileSchema);
        break;
      case "ModelCatalog":
        models = check(rel, modelCatalogSchema);
        break;
      default:
        problems.push({
          file: rel,
          message: `unknown kind ${JSON.stringify(kindOf(rel))}; allowed: PatternCatalog, DecisionRules, ControlCatalog, PriceTable, Regions, ModelCatalog`,
          ruleIds: [],
        });
    }
  }
  return {
    hash,
    files: [...texts.keys()],
    catalog,
    regions,
    models,
    controls,
    prices: [...prices],
    definitions,
    problems,
  };
}

/**
 * A price table's GPU rows with their model's figures from rules/models.yaml (one source for every
 * cloud's rows with that GPU); a row naming a model the catalog lacks is a problem.
 */
function withGpuFigures(table: PriceTableFile, models: ModelCatalog, problems: RuleSetProblem[]): PriceTable {
  const gpuInstances = table.gpuInstances.flatMap((row) => {
    const gpu = models.gpus[row.gpuModel];
    if (!gpu) {
      problems.push({
        file: `prices/${table.cloud}.yaml`,
        message: `${row.name}: gpuModel ${JSON.stringify(row.gpuModel)} is not in models.yaml gpus (${Object.keys(models.gpus).join(", ")})`,
        ruleIds: [],
      });
      return [];
    }
    return [
      {
        ...row,
        gpuMemoryGb: gpu.memoryGb,
        gpuTflops: gpu.fp16Tflops,
        ...(gpu.fp8Tflops !== undefined ? { gpuFp8Tflops: gpu.fp8Tflops } : {}),
        gpuBandwidthGbps: gpu.bandwidthGbps,
      },
    ];
  });
  const sized = new Set([...table.cpuInstances, ...table.gpuInstances].map((i) => i.name));
  for (const row of table.managedEndpointInstances)
    if (!sized.has(row.instance))
      problems.push({
        file: `prices/${table.cloud}.yaml`,
        message: `managed endpoint ${row.name}: instance ${JSON.stringify(row.instance)} is not a cpu or gpu instance of the table`,
        ruleIds: [],
      });
  return { ...table, gpuInstances };
}

export function loadRuleSet(options: LoadOptions = {}): RuleSet {
  const dir = resolve(options.dir ?? defaultRulesDir());
  const { texts, hash } = readRuleFiles(dir);
  let validated: ValidatedRuleFiles | undefined;
  if (options.snapshot && existsSync(options.snapshot)) {
    const snapshot = JSON.parse(readFileSync(options.snapshot, "utf8")) as ValidatedRuleFiles;
    if (snapshot.hash === hash) validated = snapshot;
  }
  // the build writes a snapshot only for rule files that passed every check, inputs included
  const fromSnapshot = validated !== undefined;
  validated ??= validateTexts(texts, hash);
  const { catalog, regions, models, controls, definitions } = validated;
  const problems = [...validated.problems];
  if (!catalog) problems.push({ file: "patterns.yaml", message: "no PatternCatalog found", ruleIds: [] });
  if (!regions) problems.push({ file: "regions.yaml", message: "no Regions file found", ruleIds: [] });
  if (!models) problems.push({ file: "models.yaml", message: "no ModelCatalog found", ruleIds: [] });
  if (!catalog || !regions || !models) throw new RuleSetError(problems);
  const prices = new Map(
    validated.prices.map(([cloud, table]) => [cloud, withGpuFigures(table, models, problems)]),
  );
  // a failover partner is a catalogued region of the same cloud and jurisdiction
  for (const [cloud, byName] of Object.entries(regions.clouds))
    for (const [name, region] of Object.entries(byName)) {
      if (region.failoverTo === undefined) continue;
      const partner = byName[region.failoverTo];
      if (!partner || region.failoverTo === name || partner.jurisdiction !== region.jurisdiction)
        problems.push({
          file: "regions.yaml",
          message: `${cloud} ${name}: failoverTo ${region.failoverTo} is not another ${cloud} region of jurisdiction ${region.jurisdiction} in the catalog`,
          ruleIds: [],
        });
    }

  const capabilities = Object.keys(catalog.capabilities);
  const isPattern = (capability: string, choice: string) =>
    Boolean(catalog!.capabilities[capability]?.patterns[choice]);
  const checkRef = (file: string, owner: string, ref: string) => {
    const [capability, choices] = ref.split("=");
    for (const choice of (choices ?? "").split("|")) {
      if (!isPattern(capability, choice)) {
        problems.push({
          file,
          message: `${owner} refers to unknown pattern ${capability}=${choice}`,
          ruleIds: [],
        });
      }
    }
  };
  for (const [capability, entry] of Object.entries(catalog.capabilities)) {
    for (const [choice, pattern] of Object.entries(entry.patterns)) {
      for (const ref of [...pattern.requires, ...pattern.excludes])
        checkRef("patterns.yaml", `${capability}=${choice}`, ref);
    }
  }
  for (const control of controls) {
    for (const item of control.controls) {
      if (item.appliesWhen) checkRef(`controls/${control.framework}`, `control ${item.id}`, item.appliesWhen);
      for (const ref of item.satisfiedBy) {
        if (ref.includes("=")) checkRef(`controls/${control.framework}`, `control ${item.id}`, ref);
        else if (!capabilities.includes(ref)) {
          problems.push({
            file: `controls/${control.framework}`,
            message: `control ${item.id}: unknown capability ${ref}`,
            ruleIds: [],
          });
        }
      }
    }
  }

  const known = fromSnapshot
    ? undefined
    : typeof options.knownInputs === "function"
      ? options.knownInputs()
      : options.knownInputs;
  const exact = new Set(known?.filter((k) => !k.endsWith(".*")));
  const prefixes = known?.filter((k) => k.endsWith(".*")).map((k) => k.slice(0, -1)) ?? [];
  const isKnownInput = (path: string): boolean => {
    if (path.startsWith("decision.")) return capabilities.includes(path.slice("decision.".length));
    if (!known) return true;
    return exact.has(path) || prefixes.some((prefix) => path.startsWith(prefix));
  };

  const compiled: CompiledRule[] = [];
  const knownTools = new Set<string>();
  const seenIds = new Map<string, string>();
  for (const def of definitions) {
    const where = def.file;
    const fail = (message: string) =>
      problems.push({ file: where, message: `rule ${def.id}: ${message}`, ruleIds: [def.id] });
    if (seenIds.has(def.id)) {
      problems.push({
        file: where,
        message: `duplicate rule id ${def.id} (also in ${seenIds.get(def.id)})`,
        ruleIds: [def.id],
      });
    }
    seenIds.set(def.id, where);
    if (!capabilities.includes(def.capability)) {
      fail(`unknown capability ${def.capability}; allowed: ${capabilities.join(", ")}`);
      continue;
    }
    if (!isPattern(def.capability, def.choice))
      fail(`choice ${def.choice} is not a pattern of ${def.capability}`);
    for (const alt of def.alternatives) {
      if (!isPattern(def.capability, alt.choice))
        fail(`alternative ${alt.choice} is not a pattern of ${def.capability}`);
      if (alt.choice === def.choice) fail(`alternative ${alt.choice} is the rule's own choice`);
    }
    for (const open of def.openChoices ?? []) {
      if (!isPattern(def.capability, open)) fail(`open choice ${open} is not a pattern of ${def.capability}`);
    }
    if (def.openChoices && !def.openChoices.includes(def.choice))
      fail("openChoices must include the rule's own choice");
    const reads = new Set<string>();
    const exprs: Expr[] = [];
    let condition: Expr | null = null;
    const paramExpressions: Record<string, Expr> = {};
    try {
      if (def.when !== undefined) {
        condition = parseExpression(def.when);
        referencedPaths(condition, reads);
        exprs.push(condition);
      }
      for (const expr of templateExpressions(def.because)) {
        referencedPaths(expr, reads);
        exprs.push(expr);
      }
      for (const alt of def.alternatives)
        for (const expr of templateExpressions(alt.rejectedBecause)) referencedPaths(expr, reads);
      for (const [key, value] of Object.entries(def.params)) {
        if (typeof value === "string" && value.startsWith("=")) {
          paramExpressions[key] = parseExpression(value.slice(1));
          referencedPaths(paramExpressions[key], reads);
          exprs.push(paramExpressions[key]);
        }
      }
    } catch (error) {
      if (!(error instanceof ExpressionError)) throw error;
      fail(`expression: ${error.message}`);
    }
    for (const path of reads) if (!isKnownInput(path)) fail(`reads unknown input "${path}"`);
    for (const input of def.inputs) if (!isKnownInput(input)) fail(`lists unknown input "${input}"`);
    const dependsOn = [...reads]
      .filter((p) => p.startsWith("decision."))
      .map((p) => p.slice("decision.".length));
    if (dependsOn.includes(def.capability)) fail("reads its own capability's decision");
    for (const expr of exprs) valuesTestedIn(expr, "facts.tools", knownTools);
    compiled.push({ ...def, condition, dependsOn, paramExpressions });
  }

  const rules = new Map<string, CompiledRule[]>();
  for (const capability of capabilities) {
    const list = compiled
      .filter((r) => r.capability === capability)
      .sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : 1));
    rules.set(capability, list);
    if (!list.some((r) => r.condition === null)) {
      problems.push({
        file: "decisions/",
        message: `capability ${capability} can be left undecided: no default rule (a rule without "when")${list.length ? `; rules: ${list.map((r) => r.id).join(", ")}` : ""}`,
        ruleIds: list.map((r) => r.id),
      });
    }
    for (let i = 1; i < list.length; i++) {
      if (list[i].priority === list[i - 1].priority) {
        problems.push({
          file: list[i].file,
          message: `capability ${capability} is decided twice at priority ${list[i].priority}: rules ${list[i - 1].id} and ${list[i].id}`,
          ruleIds: [list[i - 1].id, list[i].id],
        });
      }
    }
  }

  const order = topologicalOrder(capabilities, rules, problems);
  if (problems.length > 0) throw new RuleSetError(problems);

  return {
    dir,
    hash,
    version: hash.slice("sha256:".length, "sha256:".length + 12),
    catalog,
    capabilities,
    rules,
    order,
    controls: controls.sort((a, b) => (a.framework < b.framework ? -1 : 1)),
    prices,
    regions,
    models,
    files: validated.files,
    knownTools: [...knownTools].sort(),
  };
}

function topologicalOrder(
  capabilities: string[],
  rules: Map<string, CompiledRule[]>,
  problems: RuleSetProblem[],
): string[] {
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (capability: string, trail: string[]) => {
    if (state.get(capability) === "done") return;
    if (state.get(capability) === "visiting") {
      const cycle = [...trail.slice(trail.indexOf(capability)), capability];
      const ids = (rules.get(capability) ?? []).filter((r) => r.dependsOn.length > 0).map((r) => r.id);
      problems.push({
        file: "decisions/",
        message: `decision dependency cycle: ${cycle.join(" -> ")}`,
        ruleIds: ids,
      });
      return;
    }
    state.set(capability, "visiting");
    const deps = new Set((rules.get(capability) ?? []).flatMap((r) => r.dependsOn));
    for (const dep of [...deps].sort()) visit(dep, [...trail, capability]);
    state.set(capability, "done");
    order.push(capability);
  };
  for (const capability of capabilities) visit(capability, []);
  return order;
}
