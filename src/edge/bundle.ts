/**
 * Edge bundles: what a device runs, as one directory: the serving core's configuration (serve.yaml),
 * the model versions it names, and a manifest listing every file with its SHA-256 and size, signed with
 * Ed25519 (manifest.sig: the signature of manifest.json's exact bytes, base64). A device verifies the
 * signature with the fleet's public key and every file against the manifest before it runs a bundle;
 * a file the manifest does not list, a path outside the bundle, a changed byte or an unsigned bundle
 * is refused (unsigned only passes when the caller allows it).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, normalize, relative, sep } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../util/atomic-write.js";

export const MANIFEST = "manifest.json";
export const SIGNATURE = "manifest.sig";
/** The serving core's configuration inside every bundle. */
export const BUNDLE_SERVE_CONFIG = "serve.yaml";

const fileSchema = z
  .object({
    path: z.string().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, "a SHA-256 in lowercase hex"),
    bytes: z.number().int().nonnegative(),
  })
  .strict();

export const manifestSchema = z
  .object({
    apiVersion: z.literal("stackwright.dev/v1"),
    kind: z.literal("EdgeBundle"),
    name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "lowercase letters, digits and hyphens"),
    version: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "letters, digits, dots, hyphens, underscores"),
    /**
     * the release's place in the fleet's order (the release workflow's run number): a device takes a
     * bundle from its channel only when it is later than the one it runs, so a channel cannot roll the
     * fleet back to an older signed bundle; going back to an old model is a new release
     */
    sequence: z.number().int().min(0).optional(),
    serveConfig: z.literal(BUNDLE_SERVE_CONFIG),
    files: z.array(fileSchema).min(1),
  })
  .strict();
export type BundleManifest = z.infer<typeof manifestSchema>;

/** A bundle that must not run: every reason found, each naming the file. */
export class BundleError extends Error {
  override readonly name = "BundleError";
  constructor(readonly problems: string[]) {
    super(problems.join("; "));
  }
}

export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A new Ed25519 key pair, PEM (PKCS#8 private, SPKI public). */
export function generateSigningKeys(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

function ed25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== "ed25519")
    throw new BundleError([`${what} is a ${key.asymmetricKeyType} key: bundles are signed with Ed25519`]);
  return key;
}

export function privateKeyFrom(pem: string): KeyObject {
  try {
    return ed25519(createPrivateKey(pem), "the signing key");
  } catch (error) {
    if (error instanceof BundleError) throw error;
    throw new BundleError([`the signing key is not a PEM private key: ${(error as Error).message}`]);
  }
}

export function publicKeyFrom(pem: string): KeyObject {
  try {
    return ed25519(createPublicKey(pem), "the verification key");
  } catch (error) {
    if (error instanceof BundleError) throw error;
    throw new BundleError([`the verification key is not a PEM public key: ${(error as Error).message}`]);
  }
}

/** Every regular file under `root`, as sorted relative paths with forward slashes; links are refused. */
function filesUnder(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isSymbolicLink())
        throw new BundleError([
          `${relative(root, path)} is a symbolic link: a bundle holds regular files only`,
        ]);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) found.push(relative(root, path).split(sep).join("/"));
    }
  };
  walk(root);
  return found.sort();
}

/** A manifest path must stay inside the bundle: relative, no `..`, no backslash, no empty segment. */
function safePath(path: string): boolean {
  return (
    !isAbsolute(path) &&
    !path.includes("\\") &&
    path.split("/").every((part) => part !== "" && part !== "." && part !== "..") &&
    normalize(path) === path.split("/").join(sep)
  );
}

export interface BuildOptions {
  /** the directory whose files the bundle carries (serve.yaml and the models it names) */
  from: string;
  out: string;
  name: string;
  version: string;
  /** the release's place in the fleet's order (see manifestSchema) */
  sequence?: number;
  /** PEM Ed25519 private key; without one the bundle is unsigned */
  privateKeyPem?: string;
}

/**
 * Writes the bundle of `from` into `out` (which must not exist or be empty): the files, their
 * manifest and, given a key, its signature. The same inputs give byte-identical bundles.
 */
export function buildBundle(o: BuildOptions): BundleManifest {
  if (!existsSync(join(o.from, BUNDLE_SERVE_CONFIG)))
    throw new BundleError([
      `${o.from} has no ${BUNDLE_SERVE_CONFIG}: a bundle carries the serving core's configuration`,
    ]);
  if (existsSync(o.out) && readdirSync(o.out).length > 0)
    throw new BundleError([`${o.out} is not empty: a bundle is written into a new directory`]);
  const key = o.privateKeyPem === undefined ? undefined : privateKeyFrom(o.privateKeyPem);
  const paths = filesUnder(o.from).filter((p) => p !== MANIFEST && p !== SIGNATURE);
  const files = paths.map((path) => {
    const data = readFileSync(join(o.from, path));
    mkdirSync(dirname(join(o.out, path)), { recursive: true });
    writeFileAtomic(join(o.out, path), data);
    return { path, sha256: sha256(data), bytes: data.length };
  });
  const manifest = manifestSchema.parse({
    apiVersion: "stackwright.dev/v1",
    kind: "EdgeBundle",
    name: o.name,
    version: o.version,
    ...(o.sequence === undefined ? {} : { sequence: o.sequence }),
    serveConfig: BUNDLE_SERVE_CONFIG,
    files,
  });
  const text = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  writeFileAtomic(join(o.out, MANIFEST), text);
  if (key) writeFileAtomic(join(o.out, SIGNATURE), `${sign(null, text, key).toString("base64")}\n`);
  return manifest;
}

export interface VerifyOptions {
  /** PEM Ed25519 public key the signature must verify with */
  publicKeyPem?: string;
  /** run a bundle without a signature (or without a key to check one): for development only */
  allowUnsigned?: boolean;
}

export interface Verified {
  manifest: BundleManifest;
  /** whether the signature was checked against the key */
  signed: boolean;
}

/**
 * The manifest's text against its signature (null: none) and the options: whether it was checked, or
 * a BundleError when the bundle must not run. Parses the manifest; its paths are checked here too, so
 * a device can check a manifest before it downloads a file it names.
 */
export function checkManifest(text: Buffer, signatureText: string | null, o: VerifyOptions): Verified {
  let signed = false;
  if (signatureText === null) {
    if (!o.allowUnsigned)
      throw new BundleError([
        `the bundle is unsigned (no ${SIGNATURE}): refused; sign it with stackwright edge bundle --key, or pass --allow-unsigned for development`,
      ]);
  } else if (o.publicKeyPem === undefined) {
    if (!o.allowUnsigned)
      throw new BundleError([
        "no key to verify the signature with: pass --key (the fleet's public key), or --allow-unsigned for development",
      ]);
  } else {
    const signature = Buffer.from(signatureText.trim(), "base64");
    if (!verify(null, text, publicKeyFrom(o.publicKeyPem), signature))
      throw new BundleError([
        `${SIGNATURE} does not verify ${MANIFEST} with this key: the manifest was changed, or signed with another key`,
      ]);
    signed = true;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text.toString("utf8"));
  } catch (error) {
    throw new BundleError([`${MANIFEST} is not JSON: ${(error as Error).message}`]);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success)
    throw new BundleError(
      parsed.error.issues.map((i) => `${MANIFEST}: ${i.path.join(".") || "(root)"}: ${i.message}`),
    );
  const outside = parsed.data.files
    .filter((f) => !safePath(f.path))
    .map((f) => `${f.path}: a path outside the bundle`);
  if (outside.length > 0) throw new BundleError(outside);
  if (!parsed.data.files.some((f) => f.path === BUNDLE_SERVE_CONFIG))
    throw new BundleError([`${BUNDLE_SERVE_CONFIG}: not in the manifest`]);
  return { manifest: parsed.data, signed };
}

/** Checks `dir` as a bundle: its signature against the key, then every file against the manifest. */
export function verifyBundle(dir: string, o: VerifyOptions = {}): Verified {
  const manifestPath = join(dir, MANIFEST);
  if (!existsSync(manifestPath)) throw new BundleError([`${dir} has no ${MANIFEST}: not a bundle`]);
  const sigPath = join(dir, SIGNATURE);
  const verified = checkManifest(
    readFileSync(manifestPath),
    existsSync(sigPath) ? readFileSync(sigPath, "utf8") : null,
    o,
  );
  const { manifest } = verified;
  const problems: string[] = [];
  const listed = new Set<string>();
  for (const file of manifest.files) {
    listed.add(file.path);
    const path = join(dir, file.path);
    if (!existsSync(path) || !lstatSync(path).isFile()) {
      problems.push(`${file.path}: missing`);
      continue;
    }
    const data = readFileSync(path);
    if (data.length !== file.bytes || sha256(data) !== file.sha256)
      problems.push(`${file.path}: its content does not match the manifest (SHA-256 ${sha256(data)})`);
  }
  let present: string[] = [];
  try {
    present = filesUnder(dir);
  } catch (error) {
    problems.push((error as Error).message);
  }
  for (const path of present)
    if (path !== MANIFEST && path !== SIGNATURE && !listed.has(path))
      problems.push(`${path}: not in the manifest (a file added to the bundle)`);
  if (problems.length > 0) throw new BundleError(problems);
  return verified;
}

/**
 * Why `next` must not replace `running` (null when it may): a device takes only a later release.
 * A bundle without a sequence is ordered after nothing: it may replace only another without one.
 */
export function notLater(next: BundleManifest, running: BundleManifest | undefined): string | null {
  if (running?.sequence === undefined) return null;
  if (next.sequence === undefined || next.sequence <= running.sequence)
    return `${next.name} ${next.version} is release ${next.sequence ?? "(none)"}, not later than the running ${running.version} (release ${running.sequence}): a channel cannot roll devices back; going back to an old model is a new release`;
  return null;
}
