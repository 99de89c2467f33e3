/**
 * The installed stackwright package: where it lives (found once, by walking up from this module to
 * the package.json named "stackwright", so it works from src/ under vitest, from dist/src/ and from
 * the esbuild bundle in dist/bundle/) and the version it declares. Every path to a shipped asset
 * (rules/, templates/, examples/) and every mention of the version is derived from here.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const PACKAGE_NAME = "stackwright";

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string };
      if (manifest.name === PACKAGE_NAME) {
        root = dir;
        return dir;
      }
    } catch {
      // no package.json here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(
        `cannot find the ${PACKAGE_NAME} package directory above ${fileURLToPath(import.meta.url)}`,
      );
    dir = parent;
  }
}

/** A path inside the installed package: packagePath("rules"), packagePath("templates", "adr"). */
export function packagePath(...segments: string[]): string {
  return join(packageRoot(), ...segments);
}

let version: string | undefined;

/** The version in the package's package.json: the one version stackwright reports and pins. */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(packagePath("package.json"), "utf8")) as { version: string }).version;
  return version;
}
