/**
 * One inventory behind the Terraform, the cost and the controls, checked against what is generated:
 * every cost item's resources resolve to blocks of the generated Terraform, every billable block the
 * Terraform renders is priced, every implemented control's evidence resolves in the generated tree
 * (Terraform addresses in their files, chart objects in the helm render, workflow jobs in their
 * workflow) — for every example and a matrix of plans per cloud and runtime.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { textEntries } from "../../src/fileset/index.js";
import { generateAll } from "../../src/generate/index.js";
import { BILLABLE, blockOf, EDGE_CLOUDS } from "../../src/infra/index.js";
import { formatCostAudit } from "../../src/plan/format.js";
import { ChartOnDisk, type RenderedObject } from "../../src/validate/k8s.js";
import { ROOT } from "../helpers/cli.js";
import { type Block, CASES, EXAMPLES, planOf, terraformBlocks } from "../helpers/plans.js";
import { describeWith, tool } from "../helpers/tools.js";

/** An address resolves when its root block is in its file and any for_each key names a real key. */
function resolves(address: string, file: string, blocks: Block[], files: Record<string, string>): boolean {
  if (!blocks.some((b) => b.file === file && b.address === blockOf(address))) return false;
  const keys = [...address.matchAll(/\["([^"]+)"\]/g)].map((m) => m[1]);
  const tf = Object.entries(files)
    .filter(([path]) => path.startsWith(file.slice(0, file.lastIndexOf("/") + 1)))
    .map(([, text]) => text)
    .join("\n");
  return keys.every((key) => tf.includes(`"${key}"`) || new RegExp(`\\b${key}\\s*=`).test(tf));
}

describeWith(
  ["helm"],
  "inventory: what is priced is built, what is built is priced, what is claimed is evidenced",
  () => {
    it.each(CASES)("%s", async (name) => {
      const plan = await planOf(name);
      const files = Object.fromEntries(textEntries(generateAll(plan)));
      const blocks = await terraformBlocks(files);
      const inventory = plan.inventory;

      // the cost adds up, line by line, and every line says where its rate is from
      for (const item of plan.cost.items) {
        const sum = item.lines.reduce((s, l) => s + l.monthlyUsd, 0);
        expect(Math.abs(sum - item.monthlyUsd), `${name}: ${item.name}`).toBeLessThan(0.02);
        for (const line of item.lines) {
          expect(line.source, `${name}: ${item.name}`).toMatch(/\S/);
          expect(line.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
          expect(["stored", "recalled"]).toContain(line.provenance);
        }
      }
      const total = plan.cost.items.reduce((s, i) => s + i.monthlyUsd, 0);
      expect(Math.abs(total - plan.cost.monthlyUsd)).toBeLessThan(0.05);

      if (
        plan.decisions.some((d) => d.capability === "serving.runtime" && d.choice === "on-device") &&
        !EDGE_CLOUDS.has(plan.requirements.cloud.provider)
      ) {
        // an on-device plan's cloud side off AWS is not generated: nothing is built, nothing is
        // priced, and the plan says so
        expect(inventory!.resources).toEqual([]);
        expect(blocks).toEqual([]);
        expect(plan.cost.items).toEqual([]);
        expect(plan.warnings.map((w) => w.code)).toContain("EDGE_CLOUD_SIDE_NOT_BUILT");
      } else if (plan.requirements.cloud.provider === "kubernetes") {
        // nothing is built: every item is an estimate of the team's cluster, naming no resource
        expect(inventory).toBeNull();
        expect(blocks).toEqual([]);
        for (const item of plan.cost.items) {
          expect(item.resources).toEqual([]);
          expect(item.assumption, item.name).toMatch(/team's/);
        }
      } else {
        expect(inventory).not.toBeNull();
        const cloud = inventory!.cloud;
        // every region's stack: the primary's in infra/terraform/<cloud>/, the others' in regions/<region>/
        const stacks = [{ ...inventory!, dir: "" }, ...inventory!.secondaries];
        expect(
          Object.keys(files).filter((f) => /^infra\/terraform\/[^/]+\/regions\/[^/]+\/main\.tf$/.test(f)),
          `${name}: one directory per secondary region`,
        ).toHaveLength(inventory!.secondaries.length);
        for (const stack of stacks) {
          const dir = `infra/terraform/${cloud}/${stack.dir ? `${stack.dir}/` : ""}`;
          const label = `${name} ${stack.region}`;
          // the primary's stack also holds what joins the regions (global/)
          const inDir = (file: string) =>
            file.startsWith(dir) &&
            (!file.slice(dir.length).includes("/") || (!stack.dir && file.startsWith(`${dir}global/`)));
          // every resource of the stack, and so every priced address, is a block of its file
          for (const resource of stack.resources) {
            expect(inDir(resource.file), `${label}: ${resource.file}`).toBe(true);
            expect(
              resolves(resource.address, resource.file, blocks, files),
              `${label}: ${resource.address} in ${resource.file}`,
            ).toBe(true);
          }
          // its items, at its region's rates
          const items = plan.cost.items.filter((i) => (i.region ?? plan.cost.region) === stack.region);
          expect(items.length, label).toBeGreaterThan(0);
          const priced = new Set(items.flatMap((i) => i.resources));
          for (const item of items) {
            expect(item.resources.length, `${label}: ${item.name} names no resource`).toBeGreaterThan(0);
            // a row the table lacks for the region is priced at the base region's, which the plan says
            for (const line of item.lines)
              if (stack.dir && line.region !== stack.region)
                expect(
                  plan.warnings.some(
                    (w) =>
                      w.code === "PRICES_FROM_OTHER_REGION" &&
                      w.message.includes(`no ${stack.region} rate for `) &&
                      w.message.includes(line.price),
                  ),
                  `${label}: ${item.name} ${line.price} at ${line.region}`,
                ).toBe(true);
            for (const address of item.resources)
              expect(
                stack.resources.some((r) => r.address === address),
                `${label}: ${address}`,
              ).toBe(true);
          }
          // no dangling key relation: everything a key encrypts has a grant on the key, rendered in kms.tf
          for (const key of stack.resources)
            for (const rel of key.relations.filter((r) => r.kind === "encrypts")) {
              const grant = stack.resources.find(
                (g) =>
                  g.file === key.file &&
                  g.relations.some((r) => r.kind === "grants" && r.target === rel.target),
              );
              expect(grant, `${label}: ${key.address} encrypts ${rel.target} with no grant`).toBeDefined();
            }
          const grants = (stack.vars.keyGrants ?? []) as Array<{ id: string; targets: string[] }>;
          for (const grant of grants)
            expect(files[`${dir}kms.tf`], `${label}: grant ${grant.id}`).toContain(`"${grant.id}"`);
          // every billable block rendered is priced
          const billable = new Set(BILLABLE[cloud]);
          for (const block of blocks) {
            if (!billable.has(block.kind) || !inDir(block.file)) continue;
            const pricedHere = [...priced].some((address) => blockOf(address) === block.address);
            expect(pricedHere, `${label}: ${block.address} (${block.file}) is built but not priced`).toBe(
              true,
            );
          }
        }
      }

      // every control is implemented with evidence, or the customer's with what to do
      let chartObjects: RenderedObject[] | null = null;
      const chartBase = Object.keys(files).find((f) => /^deploy\/helm\/[^/]+\/Chart\.yaml$/.test(f));
      const renderChart = async (): Promise<RenderedObject[]> => {
        if (chartObjects) return chartObjects;
        const base = chartBase!.replace(/\/Chart\.yaml$/, "");
        const chart = new ChartOnDisk(files, base, tool("helm"));
        try {
          const rendered = await chart.template(base.split("/").pop()!, "default");
          expect(rendered.problems).toEqual([]);
          chartObjects = rendered.objects;
        } finally {
          chart.close();
        }
        return chartObjects;
      };
      // the workload identity the Terraform binds is the service account the chart's pods run as
      const bound = inventory?.vars.workloadServiceAccount as string | undefined;
      if (bound) {
        const accounts = (await renderChart()).filter((o) => o.object.kind === "ServiceAccount");
        expect(
          accounts.map((o) => o.object.metadata?.name),
          name,
        ).toEqual([bound]);
        const workloadTf = files[`infra/terraform/${inventory!.cloud}/workload.tf`];
        expect(workloadTf, name).toMatch(new RegExp(`(service_account = "|/sa/|:)${bound}"`));
        expect(workloadTf).toMatch(/for_each\s+=\s+local\.deploy_environments/);
      } else if (inventory && chartBase) {
        throw new Error(
          `${name}: a cluster plan whose chart's service account no cloud identity is bound to`,
        );
      }
      for (const control of plan.controls) {
        const label = `${name}: ${control.framework} ${control.id}`;
        if (control.status === "implemented") {
          expect(control.evidence.length, label).toBeGreaterThan(0);
          expect(control.customer, label).toBeUndefined();
        } else expect(control.customer, label).toMatch(/\S/);
        for (const evidence of control.evidence) {
          expect(files[evidence.file], `${label}: ${evidence.file}`).toBeDefined();
          const kindName = /^([A-Z][A-Za-z]+)\/(.+)$/.exec(evidence.locator);
          const job = /^job: (.+)$/.exec(evidence.locator);
          if (evidence.file.startsWith("infra/terraform/")) {
            expect(
              resolves(evidence.locator, evidence.file, blocks, files),
              `${label}: ${evidence.locator}`,
            ).toBe(true);
          } else if (kindName) {
            expect(chartBase, label).toBeDefined();
            const found = (await renderChart()).some(
              (o) =>
                o.object.kind === kindName[1] &&
                o.object.metadata?.name === kindName[2] &&
                evidence.file.endsWith(o.file.split("/").slice(-2).join("/")),
            );
            expect(found, `${label}: ${evidence.locator} rendered from ${evidence.file}`).toBe(true);
          } else if (job) {
            const workflow = parseYaml(files[evidence.file]) as { jobs: Record<string, unknown> };
            expect(Object.keys(workflow.jobs), label).toContain(job[1]);
          } else throw new Error(`${label}: unknown locator ${evidence.locator}`);
        }
      }
    });
  },
);

it("docs/cost-audit.md shows the examples' costs as the plans compute them today", async () => {
  const plans = [];
  for (const name of EXAMPLES) plans.push(await planOf(name));
  expect(readFileSync(join(ROOT, "docs", "cost-audit.md"), "utf8")).toBe(formatCostAudit(plans));
});
