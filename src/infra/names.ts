/**
 * Names per target. Spec names are free text; every target has its own rules (k8s DNS-1123 labels,
 * S3 buckets, Azure storage accounts). Normalization is stable, and when it loses information
 * (truncation, dropped characters) a short hash of the original keeps distinct names distinct.
 */
import { createHash } from "node:crypto";

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 6);
}

function normalize(
  text: string,
  options: { max: number; allowed: RegExp; separator: string; lower: boolean },
): string {
  let out = options.lower ? text.toLowerCase() : text;
  out = out.replace(options.allowed, options.separator);
  if (options.separator) {
    const sep = options.separator.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    out = out
      .replace(new RegExp(`${sep}+`, "g"), options.separator)
      .replace(new RegExp(`^${sep}|${sep}$`, "g"), "");
  }
  if (!/^[a-z]/i.test(out)) out = `sw${options.separator}${out}`;
  const lossless = out === text && out.length <= options.max;
  if (lossless) return out;
  const suffix = `${options.separator}${shortHash(text)}`;
  let head = out.slice(0, options.max - suffix.length);
  while (options.separator && head.endsWith(options.separator)) head = head.slice(0, -1);
  return `${head}${suffix}`;
}

/** Kubernetes DNS-1123 label: lowercase alphanumerics and '-', starting with a letter, at most 63. */
export function dns1123(text: string, max = 63): string {
  return normalize(text, { max, allowed: /[^a-z0-9-]+/g, separator: "-", lower: true });
}

/** Cloud resource name prefix (S3 bucket, GCS bucket, IAM role): lowercase, '-', at most `max`. */
export function cloudName(text: string, max = 40): string {
  return dns1123(text, max);
}

/** Azure storage account: 3-24 lowercase letters and digits only. */
export function azureStorageName(text: string): string {
  return normalize(text, { max: 24, allowed: /[^a-z0-9]+/g, separator: "", lower: true });
}

/** An HCL identifier (resource/module names): letters, digits, '_' and '-', starting with a letter. */
export function hclIdentifier(text: string): string {
  return normalize(text, { max: 64, allowed: /[^a-z0-9_]+/g, separator: "_", lower: true });
}

/**
 * The chart's name, and the Helm release every environment installs: the chart's objects are named
 * after it (the release name contains the chart name, so `stackwright.fullname` is the release alone).
 */
export function chartNameOf(metadataName: string): string {
  return dns1123(metadataName, 53);
}

/**
 * The name a secondary region's resources take: the workload's, suffixed with a short form of the
 * region (us-west-2 -> usw2), so names one account holds once (IAM roles) do not collide.
 */
export function regionalName(name: string, region: string): string {
  const parts = region.split("-");
  const short =
    parts.length > 1
      ? parts[0] +
        parts
          .slice(1)
          .map((p) => p.replace(/^([a-z])[a-z]*/, "$1"))
          .join("")
      : region;
  return `${name.slice(0, 40 - short.length - 1)}-${short}`;
}

/**
 * The storage account name of a region's stack on Azure (globally unique, like the Key Vault named
 * after it): the workload's in the primary region, its regional name's in another region's stack.
 */
export function azureStorageNameIn(spec: {
  metadata: { name: string };
  cloud: { region: string };
  availability: { regions: readonly string[] };
}): string {
  const primary = spec.availability.regions[0] ?? spec.cloud.region;
  return azureStorageName(
    spec.cloud.region === primary
      ? spec.metadata.name
      : regionalName(cloudName(spec.metadata.name, 40), spec.cloud.region),
  );
}
