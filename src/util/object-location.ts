/**
 * Object-store locations as score's --input and --output take them: s3://bucket/key, gs://bucket/key,
 * az://account/container/key, or a local path. Pure parsing, checked when the command line is parsed
 * (it sits on the CLI's start-up path); the clients are in src/serve/object-store.ts.
 */

export const OBJECT_STORE_SCHEMES = ["s3", "gs", "az"] as const;
export type ObjectStoreScheme = (typeof OBJECT_STORE_SCHEMES)[number];

export interface ObjectLocation {
  scheme: ObjectStoreScheme;
  /** Azure's storage account; undefined for s3:// and gs:// */
  account?: string;
  /** the bucket (s3, gs) or the container (az) */
  bucket: string;
  /** the key or key pattern inside it (may be "" or end in "/") */
  key: string;
}

/**
 * A location's parts, or undefined for a local path. Throws, naming what is allowed, for a URL whose
 * scheme is not served or that lacks its bucket.
 */
export function parseLocation(text: string): ObjectLocation | undefined {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(text);
  if (!m) return undefined;
  const scheme = m[1].toLowerCase();
  if (!(OBJECT_STORE_SCHEMES as readonly string[]).includes(scheme))
    throw new Error(
      `${text}: ${scheme}:// is not a location score can read or write (allowed: a local path, ${OBJECT_STORE_SCHEMES.map((s) => `${s}://`).join(", ")})`,
    );
  const parts = m[2].split("/");
  if (scheme === "az") {
    const [account, container, ...rest] = parts;
    if (!account || !container)
      throw new Error(`${text}: expected az://<storage account>/<container>/<path>`);
    if (!/^[a-z0-9]{3,24}$/.test(account))
      throw new Error(
        `${text}: the storage account must be 3-24 lowercase letters and digits, got "${account}"`,
      );
    return { scheme, account, bucket: container, key: rest.join("/") };
  }
  const [bucket, ...rest] = parts;
  if (!bucket) throw new Error(`${text}: expected ${scheme}://<bucket>/<path>`);
  return { scheme: scheme as ObjectStoreScheme, bucket, key: rest.join("/") };
}

export function formatLocation(loc: ObjectLocation, key = loc.key): string {
  return loc.scheme === "az"
    ? `az://${loc.account}/${loc.bucket}/${key}`
    : `${loc.scheme}://${loc.bucket}/${key}`;
}
