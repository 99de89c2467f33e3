/**
 * The generated Terraform against the real provider schemas at the pinned versions: the committed
 * schema files are exactly what scripts/provider-schemas.js extracts from the installed CDKTF provider
 * packages, each fits its provider's pin in versions.tf, every example and a matrix of plans per cloud
 * and runtime generate Terraform the "terraform-schema" validator accepts, and it names what is wrong
 * in Terraform that does not fit.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { GENERATED_HEADER } from "../../src/fileset/index.js";
import { generateAll } from "../../src/generate/index.js";
import { validateTerraform } from "../../src/validate/hcl.js";
import { formatValidationProblem } from "../../src/validate/index.js";
import { type ProviderSchemaFile, UNCHECKED_PROVIDERS } from "../../src/validate/provider-schema.js";
import { ROOT } from "../helpers/cli.js";
import { CASES, planOf } from "../helpers/plans.js";

const SCHEMA_DIR = join(ROOT, "src", "validate", "provider-schemas");

interface Extractor {
  extractProviderSchemas(root?: string): Record<string, string>;
  SKIPPED_PROVIDERS: Record<string, string>;
}

const extractor = async () =>
  (await import(pathToFileURL(join(ROOT, "scripts", "provider-schemas.js")).href)) as Extractor;

describe("provider schemas", () => {
  it("the committed files are what scripts/provider-schemas.js extracts from the installed packages", async () => {
    const { extractProviderSchemas } = await extractor();
    const extracted = extractProviderSchemas(ROOT);
    const committed = readdirSync(SCHEMA_DIR).filter((f) => f.endsWith(".json"));
    expect(committed.sort()).toEqual(Object.keys(extracted).map((p) => `${p}.json`));
    for (const [provider, text] of Object.entries(extracted))
      expect(readFileSync(join(SCHEMA_DIR, `${provider}.json`), "utf8"), `${provider}.json`).toBe(text);
  });

  it("the validator leaves unchecked exactly the providers the script skips, for the same reason", async () => {
    expect(UNCHECKED_PROVIDERS).toEqual((await extractor()).SKIPPED_PROVIDERS);
  });

  it("each schema's provider version is one its versions.tf constraint admits", () => {
    const constraints = new Map<string, string[]>();
    for (const cloud of ["aws", "gcp", "azure"]) {
      const text = readFileSync(join(ROOT, "templates", "terraform", cloud, "versions.tf.hbs"), "utf8");
      for (const m of text.matchAll(
        /source\s*=\s*"(?:hashicorp|Azure)\/(\w+)"\s*\n\s*version\s*=\s*"~> (\d+)\.(\d+)"/g,
      ))
        constraints.set(m[1], [...(constraints.get(m[1]) ?? []), `${m[2]}.${m[3]}`]);
    }
    for (const file of readdirSync(SCHEMA_DIR)) {
      const schema = JSON.parse(readFileSync(join(SCHEMA_DIR, file), "utf8")) as ProviderSchemaFile;
      // a vendored schema documents a major version: its minor is the pin's
      const [major, minor = Number.POSITIVE_INFINITY] = schema.version.split(".").map(Number);
      const pins = constraints.get(schema.provider) ?? [];
      expect(pins.length, `${schema.provider}: no version constraint in versions.tf.hbs`).toBeGreaterThan(0);
      for (const pin of pins) {
        const [pinMajor, pinMinor] = pin.split(".").map(Number);
        // "~> X.Y" admits X.Y up to the next major: the schema is of a version in that range
        expect(
          major === pinMajor && minor >= pinMinor,
          `${schema.provider} ${schema.version} vs ~> ${pin}`,
        ).toBe(true);
      }
    }
  });
});

// every example and the matrix of plans the examples do not cover (test/helpers/plans.ts)
describe("the generated Terraform fits the provider schemas", () => {
  it.each(CASES)("%s", async (name) => {
    const plan = await planOf(name);
    const problems = (await validateTerraform(generateAll(plan))).filter(
      (p) => p.validator === "terraform-schema",
    );
    expect(problems.map(formatValidationProblem)).toEqual([]);
  });
});

describe("the terraform-schema validator", () => {
  const header = `# ${GENERATED_HEADER}\n`;
  const check = async (tf: string) =>
    (await validateTerraform({ "infra/terraform/aws/main.tf": header + tf }))
      .filter((p) => p.validator === "terraform-schema")
      .map(formatValidationProblem);

  it("accepts a block that fits, with meta-arguments, expressions and dynamic blocks", async () => {
    expect(
      await check(`resource "aws_kms_key" "main" {
  count                   = 1
  description             = "k"
  deletion_window_in_days = var.days
  lifecycle {
    prevent_destroy = true
  }
}

data "aws_iam_policy_document" "doc" {
  dynamic "statement" {
    for_each = var.statements
    content {
      actions   = statement.value.actions
      resources = ["*"]
      principals {
        type        = "AWS"
        identifiers = ["*"]
      }
    }
  }
}

variable "days" {}
variable "statements" {}
`),
    ).toEqual([]);
  });

  it("names an unknown argument, a missing required one, an unknown nested block and a bad argument in a dynamic block", async () => {
    const problems = await check(`resource "aws_kms_key" "main" {
  descriptoin = "typo"
}

resource "aws_lb_listener" "http" {
  port = 80
  default_action {
    type = "fixed-response"
    fixed_respons {
      content_type = "text/plain"
    }
  }
}

data "aws_iam_policy_document" "doc" {
  dynamic "statement" {
    for_each = var.statements
    content {
      actions = statement.value
      effects = "Allow"
    }
  }
}

resource "aws_not_a_thing" "x" {}

variable "statements" {}
`);
    const file = "infra/terraform/aws/main.tf: [terraform-schema]";
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(
            `^${escapeRegExp(file)} aws_kms_key\\.main: unknown argument or block descriptoin \\(did you mean description\\?\\); the schema has: .*\\bdescription\\b`,
          ),
        ),
        `${file} aws_lb_listener.http: missing required argument load_balancer_arn`,
        expect.stringMatching(
          new RegExp(
            `^${escapeRegExp(file)} aws_lb_listener\\.http\\.default_action: unknown argument or block fixed_respons \\(did you mean fixed_response\\?\\); the schema has: .*\\bfixed_response\\b`,
          ),
        ),
        expect.stringMatching(
          new RegExp(
            `^${escapeRegExp(file)} data\\.aws_iam_policy_document\\.doc\\.dynamic\\.statement\\.content: unknown argument or block effects \\(did you mean effect\\?\\); the schema has: .*\\beffect\\b`,
          ),
        ),
        expect.stringMatching(
          new RegExp(
            `^${escapeRegExp(file)} aws_not_a_thing\\.x: no schema for resource aws_not_a_thing in hashicorp/aws 6\\.\\d+\\.\\d+; run scripts/provider-schemas\\.js$`,
          ),
        ),
      ]),
    );
    expect(problems).toHaveLength(5);
  });

  it("a missing required block, a block written as an argument, an unknown dynamic block, and a type of a provider with no schema", async () => {
    const problems = await check(`resource "aws_wafv2_web_acl" "main" {
  name  = "x"
  scope = "REGIONAL"
  default_action = {
    allow = {}
  }
  dynamic "rules" {
    for_each = []
    content {}
  }
}

resource "kubernetes_namespace" "x" {}
`);
    const file = "infra/terraform/aws/main.tf: [terraform-schema]";
    expect(problems).toEqual(
      expect.arrayContaining([
        `${file} aws_wafv2_web_acl.main: missing required block visibility_config`,
        `${file} aws_wafv2_web_acl.main: default_action is a nested block in the schema, not an argument: write default_action { ... } (or a list of objects where the provider takes one)`,
        expect.stringMatching(
          new RegExp(
            `^${escapeRegExp(file)} aws_wafv2_web_acl\\.main: unknown block dynamic "rules" \\(did you mean rule\\?\\); the schema has: .*\\brule\\b`,
          ),
        ),
        `${file} kubernetes_namespace.x: no schema for resource kubernetes_namespace; run scripts/provider-schemas.js`,
      ]),
    );
    expect(problems).toHaveLength(4);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
