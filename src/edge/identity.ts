/**
 * A device's cloud identity: its own X.509 certificate, registered as an AWS IoT Core thing, exchanged
 * at the IoT credentials provider (mutual TLS, the thing's name in `x-amzn-iot-thingname`) for
 * temporary credentials of the fleet's role alias. Those credentials sign what the device reads from
 * the bundle store and writes to the telemetry store; the role's policy confines the writes to the
 * device's own prefix (`${credentials-iot:ThingName}`), so one device cannot write as another.
 *
 * The identity file (JSON) names the files, relative to itself:
 *   { "provider": "aws-iot", "credentialsEndpoint": "<prefix>.credentials.iot.<region>.amazonaws.com",
 *     "roleAlias": "...", "thingName": "...", "region": "eu-west-1",
 *     "certificate": "device.crt", "privateKey": "device.key", "ca": "AmazonRootCA1.pem" (optional),
 *     "s3Endpoint": "http://127.0.0.1:4569" (optional: an S3-compatible server, addressed by path) }
 */
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { dirname, resolve } from "node:path";
import { z } from "zod";

const hostOrUrl = z
  .string()
  .min(1)
  .refine((v) => /^(https:\/\/)?[a-z0-9.-]+(:\d+)?\/?$/i.test(v), "a host name or an https:// URL");

export const identitySchema = z
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

export type DeviceIdentity = z.infer<typeof identitySchema> & { dir: string };

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
  id: DeviceIdentity,
  clock: () => Date = () => new Date(),
): () => Promise<TemporaryCredentials> {
  let cached: TemporaryCredentials | undefined;
  let asking: Promise<TemporaryCredentials> | undefined;
  const file = (name: string) => readFileSync(resolve(id.dir, name));
  const ask = (): Promise<TemporaryCredentials> =>
    new Promise((done, fail) => {
      const base = id.credentialsEndpoint.startsWith("https://")
        ? id.credentialsEndpoint
        : `https://${id.credentialsEndpoint}`;
      const url = new URL(`/role-aliases/${encodeURIComponent(id.roleAlias)}/credentials`, base);
      let cert: Buffer;
      let key: Buffer;
      let ca: Buffer | undefined;
      try {
        cert = file(id.certificate);
        key = file(id.privateKey);
        ca = id.ca ? file(id.ca) : undefined;
      } catch (error) {
        fail(new IdentityError(`the device's certificate files: ${(error as Error).message}`));
        return;
      }
      const req = request(
        url,
        { method: "GET", cert, key, ca, headers: { "x-amzn-iot-thingname": id.thingName }, timeout: 10_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            if (res.statusCode !== 200) {
              fail(
                new IdentityError(
                  `${url.host} refused ${id.thingName}'s certificate: ${res.statusCode} ${text.slice(0, 200)}`,
                ),
              );
              return;
            }
            try {
              const c = credentialsAnswer.parse(JSON.parse(text)).credentials;
              done({ ...c, expiration: new Date(c.expiration) });
            } catch (error) {
              fail(new IdentityError(`${url.host} answered no credentials: ${(error as Error).message}`));
            }
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${url.host} did not answer in 10 s`)));
      req.on("error", (error) => fail(new IdentityError(`${url.host}: ${error.message}`)));
      req.end();
    });
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
