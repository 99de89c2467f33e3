/**
 * A device's way to Azure, under its IoT Hub identity (src/edge/identity.ts):
 *
 * - writes go through the hub's file upload (REST, mutual TLS with the device's certificate): the hub
 *   is asked for a SAS that lets this device write one blob, which the hub names
 *   `<device ID>/<name>` in the upload container; the blob is put with it; the hub is told how that
 *   went (it frees the upload and, when enabled, notifies the service). A device therefore writes only
 *   under its own ID, whatever it asks for.
 * - reads of the release container (channels and bundles) carry the fleet's read-only SAS.
 *
 * IoT Hub's device-facing REST API: POST /devices/{id}/files and /devices/{id}/files/notifications,
 * api-version 2021-04-12.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import type { ObjectLocation } from "../util/object-location.js";
import { type Answer, call, HttpStatusError } from "./http-call.js";
import {
  type AzureDeviceIdentity,
  httpsBase,
  hubHost,
  IdentityError,
  tlsFiles,
  trustedRoots,
} from "./identity.js";

export const IOT_HUB_API_VERSION = "2021-04-12";
/** The Blob service version blobs are put with (what the SAS the hub issues allows). */
const BLOB_API_VERSION = "2021-08-06";

const uploadGrant = z.object({
  correlationId: z.string().min(1),
  hostName: z.string().min(1),
  containerName: z.string().min(1),
  blobName: z.string().min(1),
  sasToken: z.string().min(1),
});

/** A path's segments escaped, its slashes kept. */
const escapePath = (path: string) => path.split("/").map(encodeURIComponent).join("/");

export interface AzureDevice {
  /** the blob at az://<account>/<container>/<key>, read with the fleet's SAS; null when there is none */
  read(loc: ObjectLocation): Promise<Buffer | null>;
  /** one blob written through the hub's file upload, filed as `<device ID>/<name>` */
  upload(name: string, body: Buffer): Promise<void>;
}

export function azureDevice(id: AzureDeviceIdentity): AzureDevice {
  const hub = httpsBase(id.hubHostName);
  const host = hubHost(id);
  const device = encodeURIComponent(id.deviceId);
  const sas = () => {
    try {
      return readFileSync(resolve(id.dir, id.releasesSas), "utf8").trim().replace(/^\?/, "");
    } catch (error) {
      throw new IdentityError(`the release container's SAS: ${(error as Error).message}`);
    }
  };
  const hubCall = (path: string, body: unknown, tls: ReturnType<typeof tlsFiles>): Promise<Answer> =>
    call(new URL(`/devices/${device}/${path}?api-version=${IOT_HUB_API_VERSION}`, hub), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: Buffer.from(JSON.stringify(body)),
      tls,
    });
  return {
    async read(loc) {
      const base = id.blobEndpoint ?? `https://${loc.account}.blob.core.windows.net`;
      const url = new URL(`${base.replace(/\/$/, "")}/${loc.bucket}/${escapePath(loc.key)}?${sas()}`);
      const answer = await call(url, {
        method: "GET",
        headers: { "x-ms-version": BLOB_API_VERSION },
        tls: { ca: trustedRoots(id) },
      });
      if (answer.status === 404) return null;
      if (answer.status !== 200)
        throw new HttpStatusError(
          `${url.origin}${url.pathname}`,
          answer.status,
          answer.body.toString("utf8"),
        );
      return answer.body;
    },
    async upload(name, body) {
      // the certificate files are read once an upload (a rotated certificate is used from the next)
      const tls = tlsFiles(id);
      const asked = await hubCall("files", { blobName: name }, tls);
      if (asked.status !== 200)
        throw new HttpStatusError(`${host} (file upload)`, asked.status, asked.body.toString());
      let grant: z.infer<typeof uploadGrant>;
      try {
        grant = uploadGrant.parse(JSON.parse(asked.body.toString("utf8")));
      } catch (error) {
        throw new Error(`${host} granted no upload: ${(error as Error).message}`);
      }
      const token = grant.sasToken.startsWith("?") ? grant.sasToken : `?${grant.sasToken}`;
      const blob = new URL(
        `https://${grant.hostName}/${escapePath(grant.containerName)}/${escapePath(grant.blobName)}${token}`,
      );
      let put: Answer | undefined;
      let failure: unknown;
      try {
        put = await call(blob, {
          method: "PUT",
          headers: {
            "x-ms-blob-type": "BlockBlob",
            "x-ms-version": BLOB_API_VERSION,
            "content-type": "application/json",
          },
          body,
          tls: { ca: tls.ca },
        });
      } catch (error) {
        failure = error;
      }
      const ok = put?.status === 201;
      // the hub holds a few uploads per device open until told: it is told either way
      const told = await hubCall(
        "files/notifications",
        {
          correlationId: grant.correlationId,
          isSuccess: ok,
          statusCode: put?.status ?? 0,
          statusDescription: ok
            ? "uploaded"
            : String((failure as Error)?.message ?? put?.body.toString("utf8")),
        },
        tls,
      );
      if (failure) throw failure;
      if (!ok)
        throw new HttpStatusError(`${blob.origin}${blob.pathname}`, put!.status, put!.body.toString("utf8"));
      if (told.status !== 204 && told.status !== 200)
        throw new HttpStatusError(`${host} (upload notification)`, told.status, told.body.toString());
    },
  };
}
