import type { VersionSource } from "../serve/registry.js";
import { UserError } from "./errors.js";
import { readServeConfig } from "./serve-config-file.js";

type ServeModule = typeof import("../serve/index.js");

export function resolveModelSource(
  serve: ServeModule,
  flags: { model?: string; config?: string },
): VersionSource & { drift?: { enabled: boolean; window: number } } {
  try {
    if (flags.model) return serve.singleFile(flags.model);
    if (!flags.config) throw new UserError("give --model NAME=path.onnx or --config serve.yaml");
    const { config, dir } = readServeConfig(serve, flags.config);
    const first = config.models[0];
    if (!first) throw new UserError(`${flags.config} lists no models`);
    const chosen = serve.primaryVersion(serve.sourcesFromConfig([first], dir));
    if (!chosen) throw new UserError(`no version to run under ${first.path} (none, or every one archived)`);
    if (chosen.meta.stage === "sample") {
      process.stderr.write(
        `${first.name} v${chosen.version} is a SAMPLE model (stage: sample): generated weights, not trained; publish a trained version to replace it\n`,
      );
    }
    return { ...chosen, name: first.name, drift: config.drift };
  } catch (error) {
    if (error instanceof serve.RegistryError) throw new UserError(error.message);
    throw error;
  }
}
