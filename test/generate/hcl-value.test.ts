/**
 * hclValue: a value as HCL the way `terraform fmt` writes it (checked by the same fmt the validator
 * runs), with references written as expressions and strings that cannot break out.
 */
import { format } from "@cdktf/hcl-tools";
import { describe, expect, it } from "vitest";
import { HclExpression, hclValue } from "../../src/generate/render.js";

describe("hclValue", () => {
  it("writes objects in terraform fmt form: aligned runs of one-line attributes, nested blocks", async () => {
    const body = hclValue(
      {
        clusterName: new HclExpression("module.eks.cluster_name"),
        region: "us-east-1",
        spec: { scheme: "internal", arn: new HclExpression("aws_wafv2_web_acl.edge.arn") },
        createIngressClassResource: true,
        "stackwright.dev/pool": "gpu",
        tolerations: [{ key: "nvidia.com/gpu", operator: "Exists" }],
        affinity: null,
        empty: {},
      },
      2,
    );
    const tf = `resource "helm_release" "x" {\n  values = [yamlencode(${body})]\n}\n`;
    expect(await format(tf)).toBe(tf);
    expect(body).toContain("clusterName = module.eks.cluster_name");
    expect(body).toContain('    createIngressClassResource = true\n    "stackwright.dev/pool"     = "gpu"');
  });

  it("escapes strings so a value cannot start a template or close the string", () => {
    expect(hclValue({ a: 'x" ${var.secret} %{if}' })).toBe('{\n  a = "x\\" $${var.secret} %%{if}"\n}');
  });
});
