/**
 * Plan -> every target's files. Each generator is a pure function of the Plan; the architecture
 * document comes last because its control matrix names the files the others produced.
 */

import { type FileSet, mergeFileSets } from "../fileset/index.js";
import type { Plan } from "../plan/types.js";
import { adrFileNames, generateAdrs, type Narrative } from "./adr/index.js";
import { generateCi } from "./ci/index.js";
import { generateGitops } from "./gitops/index.js";
import { generateHelm } from "./helm/index.js";
import { generatePlatform } from "./platform/index.js";
import { generateReport } from "./report/index.js";
import { generateTerraform } from "./terraform/index.js";

export interface GenerateOptions {
  narratives?: ReadonlyMap<string, Narrative>;
  /** the npm spec the image and the CI steps install stackwright from (util/package-source.ts) */
  packageSpec?: string;
}

export const TARGETS = ["terraform", "helm", "ci", "gitops", "platform", "adr", "report"] as const;

export function generateAll(plan: Plan, options: GenerateOptions = {}): FileSet {
  const implementation = mergeFileSets(
    generateTerraform(plan),
    generateHelm(plan),
    generateCi(plan, options.packageSpec),
    generateGitops(plan),
    generatePlatform(plan, { packageSpec: options.packageSpec }),
  );
  return mergeFileSets(
    implementation,
    generateAdrs(plan, { narratives: options.narratives }),
    generateReport(plan, adrFileNames(plan)),
  );
}
