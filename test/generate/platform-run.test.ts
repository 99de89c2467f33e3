/**
 * The generated platform runs on first use: `stackwright serve --config platform/serve.yaml` from the
 * out directory answers /v1/predictions with the spec's declared features, finds entities in the
 * shipped feature file, refuses what it cannot read, and answers from the fallback chain.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { engineArgs } from "../../src/generate/engine-deploy.js";
import { generateAll } from "../../src/generate/index.js";
import { planSpecFile } from "../../src/plan/index.js";
import { buildRunTimeFailure } from "../../src/serve/onnx-build.js";
import { writeFileSet } from "../../src/write/index.js";
import { ROOT, runCliAsync } from "../helpers/cli.js";
import { onDeviceExample } from "../helpers/plans.js";
import { post, serve } from "../serve/helpers.js";

/**
 * The examples the serving core serves: an LLM engine's plan ships no serve.yaml (its engine needs a
 * GPU; test/generate/engines.test.ts holds what it generates to the engine's own flags and metrics).
 */
const EXAMPLES: string[] = [];
for (const example of readdirSync(join(ROOT, "examples"))
  .filter((f) => f.endsWith(".yaml"))
  .sort())
  if (!onDeviceExample(example) && !engineArgs((await planSpecFile(join(ROOT, "examples", example))).plan))
    EXAMPLES.push(example);

async function generated(example: string) {
  const { plan } = await planSpecFile(join(ROOT, "examples", example));
  const out = mkdtempSync(join(tmpdir(), "sw-platform-"));
  writeFileSet(out, generateAll(plan), { specHash: plan.spec.hash, ruleSetHash: plan.ruleSet.hash });
  const name = plan.requirements.metadata.name;
  const fields = plan.requirements.features.fields.length
    ? plan.requirements.features.fields
    : Array.from({ length: 8 }, (_, i) => ({ name: `f${i}`, type: "float" as const }));
  return { plan, out, name, fields };
}

/** A value of each declared type: JSON booleans for bool, whole numbers for int. */
const typedValue = (type: string, i: number) =>
  type === "bool" ? i % 2 === 0 : type === "int" ? i + 1 : 0.25 * (i + 1);

describe("the generated platform, served from the out directory", () => {
  it("serves every example the serving core runs, and the rest are LLM engines' or devices' plans", async () => {
    const all = readdirSync(join(ROOT, "examples")).filter((f) => f.endsWith(".yaml"));
    expect(EXAMPLES.length).toBeGreaterThan(5);
    for (const example of all.filter((f) => !EXAMPLES.includes(f))) {
      const { plan } = await planSpecFile(join(ROOT, "examples", example));
      // a device's bundle is served by stackwright edge run (test/edge/plan.test.ts)
      if (onDeviceExample(example)) expect(plan.requirements.edge, example).not.toBeNull();
      else expect(plan.requirements.useCase.kind, example).toBe("llm-generation");
    }
  });

  it.each(EXAMPLES)(
    "%s: answers /v1/predictions with the declared features, refuses unknown ones",
    async (example) => {
      const { plan, out, name, fields } = await generated(example);
      const s = await serve(["--config", "platform/serve.yaml"], { cwd: out });
      try {
        const features = Object.fromEntries(fields.map((f, i) => [f.name, typedValue(f.type, i)]));
        const ok = await post(`${s.url}/v1/predictions`, { model_id: name, features });
        expect(ok.status, JSON.stringify(ok.body)).toBe(200);
        expect(ok.body.probability).toBeGreaterThanOrEqual(0);
        expect(s.stderr()).toContain("a SAMPLE model (stage: sample)");
        // the request platform/README.md tells a user to send
        const readme = readFileSync(join(out, "platform/README.md"), "utf8");
        const documented = /curl -s localhost:8080\/v1\/predictions -d '(.*)'/.exec(readme)?.[1];
        expect(documented, "platform/README.md shows a request").toBeDefined();
        const asDocumented = await post(`${s.url}/v1/predictions`, JSON.parse(documented as string));
        expect(asDocumented.status, JSON.stringify(asDocumented.body)).toBe(200);
        const unknown = await post(`${s.url}/v1/predictions`, {
          model_id: name,
          features: { ...features, colour: 1 },
        });
        expect([unknown.status, unknown.body.error]).toEqual([
          400,
          expect.stringContaining("unknown feature colour"),
        ]);
        const bool = fields.findIndex((f) => f.type === "bool");
        if (bool >= 0) {
          const wrong = await post(`${s.url}/v1/predictions`, {
            model_id: name,
            features: { ...features, [fields[bool].name]: 0.5 },
          });
          expect([wrong.status, wrong.body.error]).toEqual([400, expect.stringContaining("is a bool")]);
        }
        const online = plan.decisions.find((d) => d.capability === "features.store")?.choice === "online";
        if (online) {
          // the embedded store holds the shipped entities: a request by entity key alone is enough
          const key = plan.requirements.features.entityKey;
          const byKey = await post(`${s.url}/v1/predictions`, {
            model_id: name,
            features: {},
            [key]: "sample-1",
          });
          expect(byKey.status, JSON.stringify(byKey.body)).toBe(200);
        }
      } finally {
        await s.stop();
      }
    },
  );

  it("reloads the feature file when it changes", async () => {
    const { plan, out, name } = await generated("fraud-detection.yaml");
    const key = plan.requirements.features.entityKey;
    const s = await serve(["--config", "platform/serve.yaml"], { cwd: out });
    try {
      const file = join(out, "platform/features/online.jsonl");
      const first = JSON.parse(readFileSync(file, "utf8").split("\n")[0]);
      writeFileSync(file, `${JSON.stringify({ ...first, [key]: "card-new" })}\n`);
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = (await post(`${s.url}/v1/predictions`, { model_id: name, features: {}, [key]: "card-new" }))
          .status;
      }
      expect(status).toBe(200);
      expect(s.stderr()).toContain("features: reloaded 1 entities");
    } finally {
      await s.stop();
    }
  });

  it("a fallback-chain plan answers from its fallback model when the primary fails", async () => {
    const { out, name, fields } = await generated("fraud-detection.yaml");
    // the primary loads and warms up, then errors on real inputs
    writeFileSync(join(out, `platform/models/${name}/1/model.onnx`), buildRunTimeFailure(fields.length));
    const s = await serve(["--config", "platform/serve.yaml"], { cwd: out });
    try {
      const features = Object.fromEntries(fields.map((f, i) => [f.name, typedValue(f.type, i) as unknown]));
      features.amount = 120;
      const answer = await post(`${s.url}/v1/predictions`, { model_id: name, features });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body.served_by).toBe(`fallback-model:${name}-fallback`);
    } finally {
      await s.stop();
    }
  });

  it("the strict parse still refuses a field the server would ignore", async () => {
    const { out } = await generated("demand-forecasting.yaml");
    const config = join(out, "platform/serve.yaml");
    writeFileSync(config, `${readFileSync(config, "utf8")}latencySloMs: 200\n`);
    const result = await runCliAsync(["serve", "--config", config, "--port", "0"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("latencySloMs");
  });
});
