/**
 * The versions the generated Terraform pins that expire: each with its support window and where the
 * dates are from. `plan` warns, by the clock it is given, when one is past its end of standard support
 * (the test does so by today's clock, so an expired pin fails CI instead of reaching an apply).
 * GKE follows a release channel and AKS its default GA version, so only EKS is pinned here.
 */
export interface PinnedVersion {
  cloud: "aws" | "gcp" | "azure";
  what: string;
  version: string;
  released: string;
  endOfStandardSupport: string;
  source: string;
  provenance: "stored" | "recalled";
  asOf: string;
}

export const KUBERNETES_VERSIONS: Readonly<Record<"aws", PinnedVersion>> = {
  aws: {
    cloud: "aws",
    what: "EKS Kubernetes version (cluster.tf kubernetes_version), nodes on Amazon Linux 2023",
    version: "1.35",
    released: "2026-01-28",
    // standard support is 14 months from release on EKS, then 12 months of extended support at $0.60/h
    endOfStandardSupport: "2027-03-27",
    source:
      "https://endoflife.date/amazon-eks (EKS 1.35: released 28 Jan 2026, standard support ends 27 Mar 2027)",
    provenance: "stored",
    asOf: "2026-02-14",
  },
};

/** Pins past their end of standard support at `now`. */
export function expiredPins(now: Date): PinnedVersion[] {
  return Object.values(KUBERNETES_VERSIONS).filter(
    (pin) => now.getTime() >= Date.parse(`${pin.endOfStandardSupport}T00:00:00Z`),
  );
}
