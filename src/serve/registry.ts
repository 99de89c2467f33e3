/** The model registry on disk: models/<name>/<version>/model.onnx with its model.yaml. */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { load } from "js-yaml";
import { type ModelMeta, modelMetaSchema } from "./config.js";

export interface VersionSource {
  name: string;
  version: string;
  modelPath: string;
  meta: ModelMeta;
}

export class RegistryError extends Error {}

/**
 * What identifies a version's content without reading it: the model file's inode, size and mtime
 * (an in-place rewrite changes the mtime, a rename into place the inode) and its metadata.
 */
export function fingerprintOf(source: VersionSource): string {
  const stat = statSync(source.modelPath);
  return `${stat.ino}:${stat.size}:${stat.mtimeMs}:${JSON.stringify(source.meta)}`;
}

export function readMeta(dir: string): ModelMeta {
  const path = join(dir, "model.yaml");
  if (!existsSync(path)) return modelMetaSchema.parse({});
  const parsed = modelMetaSchema.safeParse(load(readFileSync(path, "utf8")) ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RegistryError(`${path}: ${issue.path.join(".") || "(file)"}: ${issue.message}`);
  }
  return parsed.data;
}

/** Every version of one model in a registry directory, lowest first (numeric when numeric). */
export function scanModel(root: string, name: string): VersionSource[] {
  const dir = join(root, name);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, "model.onnx")))
    .map((e) => ({
      name,
      version: e.name,
      modelPath: join(dir, e.name, "model.onnx"),
      meta: readMeta(join(dir, e.name)),
    }))
    .sort((a, b) => compareVersions(a.version, b.version));
}

export function scanRegistry(root: string): VersionSource[] {
  if (!existsSync(root)) throw new RegistryError(`model directory ${root} does not exist`);
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => scanModel(root, e.name));
}

export function compareVersions(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `--model NAME=path.onnx`: version 1, metadata from a model.yaml beside the file when present. */
export function singleFile(spec: string): VersionSource {
  const eq = spec.indexOf("=");
  if (eq <= 0) throw new RegistryError(`--model ${spec}: expected NAME=path/to/model.onnx`);
  const name = spec.slice(0, eq);
  const modelPath = spec.slice(eq + 1);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name))
    throw new RegistryError(`--model ${spec}: model names are letters, digits, '.', '_' and '-'`);
  if (!existsSync(modelPath)) throw new RegistryError(`--model ${spec}: ${modelPath} does not exist`);
  const metaDir = modelPath.slice(0, modelPath.length - basename(modelPath).length) || ".";
  return {
    name,
    version: "1",
    modelPath,
    meta: existsSync(join(metaDir, "model.yaml")) ? readMeta(metaDir) : modelMetaSchema.parse({}),
  };
}

/** Every version of every model a serve.yaml lists, its paths read relative to the file's directory. */
export function sourcesFromConfig(
  models: ReadonlyArray<{ name: string; path: string }>,
  configDir: string,
): VersionSource[] {
  return models.flatMap((m) => {
    const dir = resolve(configDir, m.path);
    return scanModel(dirname(dir), basename(dir)).map((s) => ({ ...s, name: m.name }));
  });
}
