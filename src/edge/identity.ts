/**
 * A device's cloud identity: its own X.509 certificate, registered with the cloud's device registry.
 *
 * - AWS IoT Core (`aws-iot`): the certificate is exchanged at the IoT credentials provider (mutual
 *   TLS, the thing's name in `x-amzn-iot-thingname`) for temporary credentials of the fleet's role
 *   alias. Those credentials sign what the device reads from the bundle store and writes to the
 *   telemetry store; the role's policy confines the writes to the device's own prefix
 *   (`${credentials-iot:ThingName}`), so one device cannot write as another.
 *     { "provider": "aws-iot", "credentialsEndpoint": "<prefix>.credentials.iot.<region>.amazonaws.com",
 *       "roleAlias": "...", "thingName": "...", "region": "eu-west-1",
 *       "certificate": "device.crt", "privateKey": "device.key", "ca": "AmazonRootCA1.pem" (optional),
 *       "s3Endpoint": "http://127.0.0.1:4569" (optional: an S3-compatible server, addressed by path) }
 * - Azure IoT Hub (`azure-iot-hub`): the certificate (self-signed, made on the device; the hub's
 *   registry holds its SHA-256 thumbprint under the device ID: X.509 thumbprint authentication)
 *   authenticates the device to the hub over mutual TLS. Telemetry goes through the
 *   hub's file upload (src/edge/iothub.ts), which grants a write SAS for one blob under the device's
 *   own ID, so one device cannot write as another. Releases are read with the fleet's read-only SAS of
 *   the release container (`releasesSas`: a file holding it, read at each use so it can be rotated).
 *     { "provider": "azure-iot-hub", "hubHostName": "<hub>.azure-devices.net", "deviceId": "...",
 *       "certificate": "device.crt", "privateKey": "device.key", "ca": "roots.pem" (optional: else Node's roots),
 *       "releasesSas": "releases.sas",
 *       "blobEndpoint": "https://127.0.0.1:10000/devstoreaccount1" (optional: Azurite, by path) }
 *
 * Files are named relative to the identity file.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { type Answer, call } from "./http-call.js";

const hostOrUrl = z
  .string()
  .min(1)
  .refine((v) => /^(https:\/\/)?[a-z0-9.-]+(:\d+)?\/?$/i.test(v), "a host name or an https:// URL");

const awsIdentity = z
  .object({
    provider: z.literal("aws-iot"),
    credentialsEndpoint: hostOrUrl,
    roleAlias: z.string().regex(/^[\w=,@-]{1,128}$/, "an IoT role alias name"),
    thingName: z.string().regex(/^[a-zA-Z0-9:_-]{1,128}$/, "an IoT thing name"),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "an AWS region"),
    certificate: z.string().min(1),
    privateKey: z.string().min(1),
    ca: z.string().min(1).optional(),
    s3Endpoint: z.string().url().optional(),
  })
  .strict();

const azureIdentity = z
  .object({
    provider: z.literal("azure-iot-hub"),
    hubHostName: hostOrUrl,
    // IoT Hub's device ID characters (https://learn.microsoft.com: "device identity"), without those a URL path would need escaped
    deviceId: z.string().regex(/^[A-Za-z0-9._:=@-]{1,128}$/, "an IoT Hub device ID"),
    certificate: z.string().min(1),
    privateKey: z.string().min(1),
    ca: z.string().min(1).optional(),
    releasesSas: z.string().min(1),
    blobEndpoint: z.string().url().optional(),
  })
  .strict();

export const identitySchema = z.discriminatedUnion("provider", [awsIdentity, azureIdentity]);

export type AwsDeviceIdentity = z.infer<typeof awsIdentity> & { dir: string };
export type AzureDeviceIdentity = z.infer<typeof azureIdentity> & { dir: string };
export type DeviceIdentity = AwsDeviceIdentity | AzureDeviceIdentity;

/** The name the device's registry knows it by: what its uploads are filed under. */
export function deviceName(id: DeviceIdentity): string {
  return id.provider === "aws-iot" ? id.thingName : id.deviceId;
}

/** A file the identity names, read now (a rotated file is picked up). */
function identityFile(id: DeviceIdentity, name: string): Buffer {
  try {
    return readFileSync(resolve(id.dir, name));
  } catch (error) {
    throw new IdentityError(`the device's certificate files: ${(error as Error).message}`);
  }
}

/** The roots the device trusts (its `ca`; undefined: Node's own). */
export function trustedRoots(id: DeviceIdentity): Buffer | undefined {
  return id.ca ? identityFile(id, id.ca) : undefined;
}

/** The device's certificate, key and the roots it trusts: what it signs in with over mutual TLS. */
export function tlsFiles(id: DeviceIdentity): { cert: Buffer; key: Buffer; ca?: Buffer } {
  return {
    cert: identityFile(id, id.certificate),
    key: identityFile(id, id.privateKey),
    ca: trustedRoots(id),
  };
}

/** An https:// base URL of a host name or URL the identity names. */
export function httpsBase(hostOrUrl: string): string {
  return /^https:\/\//.test(hostOrUrl) ? hostOrUrl : `https://${hostOrUrl}`;
}

/** The host (and port) of a device's IoT Hub, as an iothub:// URL names it. */
export function hubHost(id: AzureDeviceIdentity): string {
  return new URL(httpsBase(id.hubHostName)).host;
}

export class IdentityError extends Error {}

/** Reads and checks an identity file; every bad field is named with what is allowed. */
export function readIdentity(path: string): DeviceIdentity {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new IdentityError(`cannot read the device identity ${path}: ${(error as Error).message}`);
  }
  const parsed = identitySchema.safeParse(raw);
  if (!parsed.success)
    throw new IdentityError(
      `${path}: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`,
    );
  return { ...parsed.data, dir: dirname(resolve(path)) };
}

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

const credentialsAnswer = z.object({
  credentials: z.object({
    accessKeyId: z.string().min(1),
    secretAccessKey: z.string().min(1),
    sessionToken: z.string().min(1),
    expiration: z.string().datetime({ offset: true }),
  }),
});

/** Credentials are asked for again this long before they expire. */
const REFRESH_MS = 5 * 60_000;

/**
 * A credentials provider for the AWS SDK: the role alias's credentials, asked for over mutual TLS with
 * the device's certificate and kept until five minutes before they expire.
 */
export function iotCredentials(
  id: AwsDeviceIdentity,
  clock: () => Date = () => new Date(),
): () => Promise<TemporaryCredentials> {
  let cached: TemporaryCredentials | undefined;
  let asking: Promise<TemporaryCredentials> | undefined;
  const ask = async (): Promise<TemporaryCredentials> => {
    const url = new URL(
      `/role-aliases/${encodeURIComponent(id.roleAlias)}/credentials`,
      httpsBase(id.credentialsEndpoint),
    );
    let answer: Answer;
    try {
      answer = await call(url, {
        method: "GET",
        headers: { "x-amzn-iot-thingname": id.thingName },
        tls: tlsFiles(id),
        timeoutMs: 10_000,
      });
    } catch (error) {
      if (error instanceof IdentityError) throw error;
      throw new IdentityError(`${url.host}: ${(error as Error).message}`);
    }
    const text = answer.body.toString("utf8");
    if (answer.status !== 200)
      throw new IdentityError(
        `${url.host} refused ${id.thingName}'s certificate: ${answer.status} ${text.slice(0, 200)}`,
      );
    try {
      const c = credentialsAnswer.parse(JSON.parse(text)).credentials;
      return { ...c, expiration: new Date(c.expiration) };
    } catch (error) {
      throw new IdentityError(`${url.host} answered no credentials: ${(error as Error).message}`);
    }
  };
  return () => {
    if (cached && cached.expiration.getTime() - clock().getTime() > REFRESH_MS)
      return Promise.resolve(cached);
    asking ??= ask()
      .then((c) => {
        cached = c;
        return c;
      })
      .finally(() => {
        asking = undefined;
      });
    return asking;
  };
}
