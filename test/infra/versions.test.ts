/**
 * Pinned versions expire: today's clock finds none past its end of standard support (this test fails
 * the day one is, before a generated cluster is created on it), and `plan --now` says so for a date
 * past it.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expiredPins, KUBERNETES_VERSIONS } from "../../src/infra/index.js";
import { ROOT, runCli } from "../helpers/cli.js";

describe("pinned versions", () => {
  it("none is past its end of standard support by today's clock", () => {
    expect(
      expiredPins(new Date()).map((p) => `${p.what} ${p.version} (ended ${p.endOfStandardSupport})`),
    ).toEqual([]);
  });

  it("the generated EKS cluster and its nodes use the pin (Amazon Linux 2023, NVIDIA AMI for GPU pools)", () => {
    const result = runCli([
      "plan",
      "--spec",
      join(ROOT, "examples", "fraud-detection.yaml"),
      "--json",
      "--now",
      "2027-03-27",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const plan = JSON.parse(result.stdout);
    expect(plan.inventory.vars.kubernetesVersion).toBe(KUBERNETES_VERSIONS.aws.version);
    // the day standard support ends, plan says so (stderr and JSON), naming the source of the date
    expect(result.stderr).toMatch(
      /warning KUBERNETES_VERSION_EXPIRED: EKS Kubernetes version .* 1\.35 left standard support on 2027-03-27/,
    );
    expect(plan.warnings.map((w: { code: string }) => w.code)).toContain("KUBERNETES_VERSION_EXPIRED");
    const before = runCli([
      "plan",
      "--spec",
      join(ROOT, "examples", "fraud-detection.yaml"),
      "--json",
      "--now",
      "2027-03-26",
    ]);
    expect(before.stderr).not.toContain("KUBERNETES_VERSION_EXPIRED");
  });
});
