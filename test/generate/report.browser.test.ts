import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { expect, it } from "vitest";
import { generateAll } from "../../src/generate/index.js";
import { createPlan, planSpecFile } from "../../src/plan/index.js";
import { CAPABILITIES } from "../../src/plan/types.js";
import { parseSpecValue } from "../../src/requirements/index.js";
import { ROOT } from "../helpers/cli.js";
import { describeWith, tool } from "../helpers/tools.js";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

describeWith(["chromium"], "docs/report.html in a real browser", () => {
  it("renders the diagram as SVG and the cost chart against the budget, offline; saves a screenshot", async () => {
    const { plan } = await planSpecFile(join(ROOT, "examples/fraud-detection.yaml"));
    const files = generateAll(plan);
    const dir = mkdtempSync(join(tmpdir(), "sw-report-"));
    mkdirSync(join(dir, "docs"), { recursive: true });
    writeFileSync(join(dir, "docs/report.html"), String(files["docs/report.html"]));
    const browser = await chromium.launch({ executablePath: tool("chromium"), args: ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 1600 } });
      const requests: string[] = [];
      page.on("request", (r) => {
        if (!r.url().startsWith("file://")) requests.push(r.url());
      });
      await page.goto(`file://${join(dir, "docs/report.html")}`);
      const diagram = await page.locator("svg#architecture").boundingBox();
      expect(diagram?.width).toBeGreaterThan(500);
      expect(await page.locator("svg#architecture g.node").count()).toBeGreaterThanOrEqual(9);
      expect(await page.locator("svg#architecture .edge").count()).toBeGreaterThanOrEqual(9);
      expect(await page.locator("svg#cost rect.bar").count()).toBe(plan.cost.items.length);
      expect(await page.locator("svg#cost line.budget").count()).toBe(1);
      expect(await page.locator("table").first().locator("tbody tr").count()).toBe(CAPABILITIES.length);
      expect(await page.locator('a[href^="adr/0008-"]').count()).toBe(1);
      expect(requests).toEqual([]);
      mkdirSync(join(ROOT, "test-artifacts"), { recursive: true });
      await page.screenshot({ path: join(ROOT, "test-artifacts", "report.png"), fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it("escapes hostile spec text in the page", async () => {
    const parsed = parseSpecValue({
      metadata: { name: '<img src=x onerror="alert(1)">' },
      useCase: { description: "</script><script>alert(2)</script>" },
    });
    if (!parsed.ok) throw new Error("spec");
    const page = String(generateAll(createPlan(parsed.spec))["docs/report.html"]);
    expect(page).not.toContain("<img src=x");
    expect(page).not.toContain("<script>");
    expect(page).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
  });
});
