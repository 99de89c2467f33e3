/**
 * A bundle run inside the application's own process (inference.mode: embedded): verified as a device
 * verifies it, its models loaded by the serving core, and called directly, with the same batching,
 * validation, fallback and drift statistics as a served model and no socket in between.
 */
import { readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { load } from "js-yaml";
import { BUNDLE_SERVE_CONFIG, BundleError, type VerifyOptions, verifyBundle } from "./bundle.js";

type Serve = typeof import("../serve/index.js");

/** The serving core's configuration of a bundle and the model versions it names, all inside the bundle. */
export function bundleServing(serve: Serve, dir: string) {
  const parsed = serve.serveConfigSchema.safeParse(
    load(readFileSync(join(dir, BUNDLE_SERVE_CONFIG), "utf8")) ?? {},
  );
  if (!parsed.success)
    throw new BundleError(
      parsed.error.issues.map((i) => `${BUNDLE_SERVE_CONFIG}: ${i.path.join(".") || "(root)"}: ${i.message}`),
    );
  const config = parsed.data;
  // a model the configuration names must be one of the bundle's own files
  const outside = config.models.filter((m) => relative(dir, resolve(dir, m.path)).startsWith(".."));
  if (outside.length > 0)
    throw new BundleError(
      outside.map((m) => `${BUNDLE_SERVE_CONFIG}: model ${m.name} is outside the bundle (${m.path})`),
    );
  const sources = serve.sourcesFromConfig(config.models, dir);
  if (sources.length === 0) throw new BundleError([`${BUNDLE_SERVE_CONFIG} names no model`]);
  return { config, sources };
}

export interface InferRequest {
  model_name?: string;
  inputs: unknown;
  outputs?: unknown;
}

export interface EmbeddedModel {
  readonly name: string;
  readonly version: string;
  /** the model requests go to when they name none: the first of serve.yaml */
  readonly model: string;
  /** An Open Inference Protocol infer request, answered in this process. */
  infer(request: InferRequest): Promise<{ model_name: string; model_version: string; outputs: unknown[] }>;
  close(): Promise<void>;
}

/** Verifies the bundle in `dir` and loads its models into this process. */
export async function openBundle(
  dir: string,
  options: VerifyOptions & { log?: (line: string) => void } = {},
): Promise<EmbeddedModel> {
  const { manifest } = verifyBundle(dir, options);
  const serve = await import("../serve/index.js");
  const { encodeOutputs } = await import("../serve/pipeline.js");
  const { config, sources } = bundleServing(serve, dir);
  const core = new serve.ServingCore({ config, sources, log: options.log });
  try {
    await core.loadAll(sources);
  } catch (error) {
    await core.close();
    throw error;
  }
  const model = sources[0]!.name;
  return {
    name: manifest.name,
    version: manifest.version,
    model,
    async infer(request) {
      const name = request.model_name ?? model;
      const { loaded, outputs } = await core.router.infer(name, undefined, request.inputs);
      return {
        model_name: name,
        model_version: loaded.version,
        outputs: encodeOutputs(outputs, request.outputs),
      };
    },
    close: () => core.close(),
  };
}
