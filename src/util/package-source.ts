/**
 * Where a generated platform installs stackwright from: the one npm package spec the image's
 * Dockerfile (ARG STACKWRIGHT_PACKAGE) and every generated CI step use. An explicit spec wins (a
 * tarball, a git URL, a package on an internal registry); otherwise, when generate runs inside an npm
 * project that depends on stackwright, the range that project pins; otherwise this version.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { PACKAGE_NAME, packageVersion } from "./package.js";

export interface PackageSource {
  spec: string;
  /** where the spec came from, for the generate summary */
  from: string;
}

export function defaultPackageSpec(): string {
  return `${PACKAGE_NAME}@${packageVersion()}`;
}

/** The nearest package.json at or above `dir` that names stackwright as a dependency, and its range. */
function pinnedInProject(dir: string): { range: string; file: string } | undefined {
  for (let current = dir; ; current = dirname(current)) {
    const file = join(current, "package.json");
    let manifest: Record<string, unknown> | undefined;
    try {
      manifest = JSON.parse(readFileSync(file, "utf8"));
    } catch {
      manifest = undefined;
    }
    if (manifest) {
      // stackwright's own repository is not a project that uses it
      if (manifest.name === PACKAGE_NAME) return undefined;
      for (const field of ["dependencies", "devDependencies", "optionalDependencies"]) {
        const range = (manifest[field] as Record<string, string> | undefined)?.[PACKAGE_NAME];
        if (typeof range === "string") return { range, file };
      }
      return undefined;
    }
    if (dirname(current) === current) return undefined;
  }
}

export function resolvePackageSource(options: { explicit?: string; cwd?: string } = {}): PackageSource {
  if (options.explicit) return { spec: options.explicit, from: "--package" };
  const pinned = pinnedInProject(options.cwd ?? process.cwd());
  if (pinned) {
    // a file: or git range is a spec on its own; a version range goes after the name
    const spec = /^(file:|git|https?:|github:|\.|\/)/.test(pinned.range)
      ? pinned.range
      : `${PACKAGE_NAME}@${pinned.range}`;
    return { spec, from: pinned.file };
  }
  return { spec: defaultPackageSpec(), from: `this stackwright (${packageVersion()})` };
}
