import { join, resolve } from "node:path";
import { formatTable } from "../../plan/format.js";
import { createPlan } from "../../plan/index.js";
import { EXIT } from "../errors.js";
import type { CliIo } from "../io.js";
import { readServeConfig } from "../serve-config-file.js";
import { loadSpecForCommand } from "../spec-input.js";
import { runGenerate } from "./generate-actions.js";

/** Starts the generated platform, sends one prediction through /v1/predictions, prints it, stops. */
async function demoPrediction(io: CliIo, out: string): Promise<void> {
  const serve = (await import("../../serve/index.js" as string)) as typeof import("../../serve/index.js");
  const configPath = join(resolve(out), "platform", "serve.yaml");
  const { config, dir } = readServeConfig(serve, configPath);
  const sources = serve.sourcesFromConfig(config.models, dir);
  io.out(`\nstarting the generated platform (${configPath}) ...\n`);
  const { core, url } = await serve.startServing({
    config: { ...config, workers: 1 },
    sources,
    port: 0,
    features: await serve.openFeatureStore(config, dir),
  });
  try {
    const model = sources[0];
    // a value of each feature's declared type (serve.yaml features.fields; model.yaml encodings)
    const kinds = new Map(config.features.fields.map((f) => [f.name, f.type]));
    const features = Object.fromEntries(
      (model.meta.features ?? []).map((name, i) => {
        const kind = kinds.get(name) ?? "float";
        const value =
          kind === "bool"
            ? i % 2 === 0
            : kind === "int"
              ? i + 1
              : kind === "string"
                ? (model.meta.encodings?.[name]?.categories[0] ?? "")
                : Math.round((i + 1) * 0.1 * 100) / 100;
        return [name, value];
      }),
    );
    const request = { model_id: model.name, features };
    const response = await fetch(`${url}/v1/predictions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request),
    });
    io.out(`POST ${url}/v1/predictions ${JSON.stringify(request)}\n`);
    io.out(`-> ${response.status} ${await response.text()}\n`);
  } finally {
    await core.close();
    io.out("platform stopped\n");
  }
}

type InterviewModule = { runInterview: (options: Record<string, unknown>) => Promise<number> };

export async function runStart(io: CliIo, options: { spec: string; out: string }): Promise<number> {
  if (io.isTty) {
    let ui: InterviewModule | undefined;
    try {
      ui = (await import("../../interview/ui/index.js" as string)) as InterviewModule;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ERR_MODULE_NOT_FOUND") throw error;
      io.err("the interactive interview is not part of this build; planning the example instead\n\n");
    }
    if (ui) {
      return ui.runInterview({
        out: "stackwright.yaml",
        io,
        generate: (spec: string, out: string) =>
          runGenerate(io, { spec, out, llmTimeout: 60, llmTokenBudget: 200_000 }),
      });
    }
  }
  io.out(`stackwright: planning ${options.spec} (not a terminal, so no interview)\n\n`);
  const spec = await loadSpecForCommand(options.spec);
  const plan = createPlan(spec);
  io.out(formatTable(plan));
  io.out("\n");
  const code = await runGenerate(io, {
    spec: options.spec,
    out: options.out,
    force: false,
    llmTimeout: 60,
    llmTokenBudget: 200_000,
  });
  if (code !== EXIT.ok) return code;
  await demoPrediction(io, options.out);
  io.out(
    [
      "",
      "next:",
      `  stackwright explain serving.mode --spec ${options.spec}    # why a decision was made`,
      `  stackwright diff --spec ${options.spec} --set inference.latencyP99Ms=10`,
      `  less ${options.out}/docs/architecture.md                   # diagram, decisions, control matrix`,
      `  stackwright serve --config ${options.out}/platform/serve.yaml   # the platform, on http://127.0.0.1:8080`,
      "",
    ].join("\n"),
  );
  return EXIT.ok;
}
