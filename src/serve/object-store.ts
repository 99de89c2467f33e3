/**
 * Object-store locations for batch scoring: s3://bucket/key, gs://bucket/key and
 * az://account/container/key, read and written through the clouds' own client libraries (the AWS SDK
 * for S3, the same SDK against Cloud Storage's S3-compatible XML API for gs://, @azure/storage-blob for
 * Azure). Nothing is downloaded at run time; a scheme that cannot be served is refused when the
 * command line is parsed.
 *
 * Credentials and endpoints come from the environment, as each cloud's tools read them:
 * - s3://  the AWS SDK's default chain (IRSA / EKS Pod Identity in a pod, AWS_* variables, profiles);
 *          AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL for an S3-compatible server (path-style then).
 * - gs://  an HMAC key of the job's service account (GCS_HMAC_ACCESS_ID, GCS_HMAC_SECRET): Cloud
 *          Storage's XML API takes S3-style signatures with it; STACKWRIGHT_GCS_ENDPOINT overrides
 *          https://storage.googleapis.com.
 * - az://  AZURE_STORAGE_KEY (shared key) when set, else DefaultAzureCredential (workload identity on
 *          AKS, managed identity, az login); AZURE_STORAGE_BLOB_ENDPOINT overrides
 *          https://<account>.blob.core.windows.net (Azurite: http://127.0.0.1:10000/<account>).
 */

import { createHash } from "node:crypto";
import { formatLocation, type ObjectLocation } from "../util/object-location.js";

/** The keys a pattern names: `*` and `?` within one path segment, `**` across segments. */
export function keyMatcher(pattern: string): { prefix: string; matches: (key: string) => boolean } {
  const glob = pattern.search(/[*?[]/);
  if (glob < 0) {
    // a plain key is that object, or everything under it when it names a folder
    const folder = pattern === "" || pattern.endsWith("/");
    return {
      prefix: pattern,
      matches: (key) => (folder ? key.startsWith(pattern) && !key.endsWith("/") : key === pattern),
    };
  }
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*" && pattern[i + 1] === "*") {
      re += ".*";
      i++;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  const regex = new RegExp(`^${re}$`);
  return { prefix: pattern.slice(0, glob), matches: (key) => regex.test(key) && !key.endsWith("/") };
}

export interface ObjectStore {
  /** every key under the prefix, sorted */
  list(prefix: string): Promise<string[]>;
  get(key: string): Promise<Uint8Array>;
  /** the object, or null when there is none under that key */
  find(key: string): Promise<Uint8Array | null>;
  /** a whole object in one request: it appears complete or not at all */
  put(key: string, body: Uint8Array): Promise<void>;
  /** the folders ("<prefix><name>/") directly under a prefix ending in "/" (az:// only) */
  folders?(prefix: string): Promise<string[]>;
}

/** What a caller may set instead of the environment (a device's own identity, src/edge/identity.ts). */
export interface StoreAccess {
  /** an AWS credentials provider (temporary credentials it refreshes itself) */
  credentials?: () => Promise<{
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
    expiration?: Date;
  }>;
  region?: string;
  /** an S3-compatible server, addressed by path */
  endpoint?: string;
}

export async function openObjectStore(
  loc: ObjectLocation,
  env: NodeJS.ProcessEnv = process.env,
  access: StoreAccess = {},
): Promise<ObjectStore> {
  return loc.scheme === "az" ? azureStore(loc, env) : s3Store(loc, env, access);
}

/** Whether a client library's error says the object is not there. */
function notFound(error: unknown): boolean {
  const e = error as { name?: string; statusCode?: number; $metadata?: { httpStatusCode?: number } };
  return (
    e.name === "NoSuchKey" ||
    e.name === "NotFound" ||
    e.statusCode === 404 ||
    e.$metadata?.httpStatusCode === 404
  );
}

async function findWith(get: (key: string) => Promise<Uint8Array>, key: string): Promise<Uint8Array | null> {
  try {
    return await get(key);
  } catch (error) {
    if (notFound(error)) return null;
    throw error;
  }
}

async function s3Store(
  loc: ObjectLocation,
  env: NodeJS.ProcessEnv,
  access: StoreAccess,
): Promise<ObjectStore> {
  const { S3Client, ListObjectsV2Command, GetObjectCommand, PutObjectCommand } = await import(
    "@aws-sdk/client-s3"
  );
  const gcs = loc.scheme === "gs";
  const endpoint = gcs
    ? (env.STACKWRIGHT_GCS_ENDPOINT ?? "https://storage.googleapis.com")
    : (access.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL);
  if (gcs && !(env.GCS_HMAC_ACCESS_ID && env.GCS_HMAC_SECRET))
    throw new Error(
      `${formatLocation(loc)}: gs:// needs an HMAC key of the job's service account in GCS_HMAC_ACCESS_ID and GCS_HMAC_SECRET`,
    );
  const client = new S3Client({
    region: gcs ? "auto" : (access.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1"),
    endpoint,
    // S3-compatible servers and Cloud Storage's XML API address buckets by path
    forcePathStyle: endpoint !== undefined,
    // the environment given wins (the default chain reads process.env); else the SDK's default chain
    credentials: access.credentials
      ? access.credentials
      : gcs
        ? { accessKeyId: env.GCS_HMAC_ACCESS_ID!, secretAccessKey: env.GCS_HMAC_SECRET! }
        : env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
          ? {
              accessKeyId: env.AWS_ACCESS_KEY_ID,
              secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
              sessionToken: env.AWS_SESSION_TOKEN,
            }
          : undefined,
    // checksums only where S3 requires them: Cloud Storage and S3-compatible servers refuse the
    // flexible-checksum headers the SDK otherwise adds
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  const Bucket = loc.bucket;
  const get = async (key: string) => {
    const out = await client.send(new GetObjectCommand({ Bucket, Key: key }));
    return out.Body!.transformToByteArray();
  };
  return {
    async list(prefix) {
      const keys: string[] = [];
      let ContinuationToken: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken }),
        );
        for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
      return keys.sort();
    },
    get,
    find: (key) => findWith(get, key),
    async put(key, body) {
      // Content-MD5: S3 requires it (or a flexible checksum, which S3-compatible servers refuse) for a
      // put into a bucket under Object Lock (the edge bundle store), and it checks the body arrived whole
      const ContentMD5 = createHash("md5").update(body).digest("base64");
      await client.send(new PutObjectCommand({ Bucket, Key: key, Body: body, ContentMD5 }));
    },
  };
}

async function azureStore(loc: ObjectLocation, env: NodeJS.ProcessEnv): Promise<ObjectStore> {
  const { BlobServiceClient, StorageSharedKeyCredential } = await import("@azure/storage-blob");
  const account = loc.account!;
  const url = env.AZURE_STORAGE_BLOB_ENDPOINT ?? `https://${account}.blob.core.windows.net`;
  const credential = env.AZURE_STORAGE_KEY
    ? new StorageSharedKeyCredential(account, env.AZURE_STORAGE_KEY)
    : new (await import("@azure/identity")).DefaultAzureCredential();
  const container = new BlobServiceClient(url, credential).getContainerClient(loc.bucket);
  const get = async (key: string) => new Uint8Array(await container.getBlobClient(key).downloadToBuffer());
  return {
    async list(prefix) {
      const keys: string[] = [];
      for await (const blob of container.listBlobsFlat({ prefix })) keys.push(blob.name);
      return keys.sort();
    },
    get,
    find: (key) => findWith(get, key),
    async put(key, body) {
      await container.getBlockBlobClient(key).uploadData(body);
    },
    async folders(prefix) {
      const names: string[] = [];
      for await (const item of container.listBlobsByHierarchy("/", { prefix }))
        if (item.kind === "prefix") names.push(item.name);
      return names.sort();
    },
  };
}
