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
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { resolve } from "node:path";
import { z } from "zod";
import type { ObjectLocation } from "../util/object-location.js";
import { type AzureDeviceIdentity, httpsBase, IdentityError, tlsFiles } from "./identity.js";

export const IOT_HUB_API_VERSION = "2021-04-12";
/** The Blob service version blobs are put with (what the SAS the hub issues allows). */
const BLOB_API_VERSION = "2021-08-06";
const TIMEOUT_MS = 30_000;

interface Answer {
  status: number;
  body: Buffer;
}

interface CallOptions {
  method: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** the device's certificate and key (the hub); the roots alone (storage) */
  tls: { cert?: Buffer; key?: Buffer; ca?: Buffer };
}

function call(url: URL, o: CallOptions): Promise<Answer> {
  return new Promise((done, fail) => {
    const send = url.protocol === "http:" ? httpRequest : httpsRequest;
    const req = send(
      url,
      {
        method: o.method,
        headers: { ...o.headers, ...(o.body ? { "content-length": String(o.body.length) } : {}) },
        ...(url.protocol === "https:" ? o.tls : {}),
        timeout: TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on("error", fail);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${url.host} did not answer in ${TIMEOUT_MS / 1000} s`)));
    req.on("error", fail);
    req.end(o.body);
  });
}

/** A store that answered, with a status that is not the one asked for. */
export class AzureStatusError extends Error {
  constructor(
    readonly where: string,
    readonly status: number,
    detail: string,
  ) {
    super(`${where} answered ${status}${detail ? `: ${detail.slice(0, 200)}` : ""}`);
  }
}

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
  const device = encodeURIComponent(id.deviceId);
  const sas = () => {
    try {
      return readFileSync(resolve(id.dir, id.releasesSas), "utf8").trim().replace(/^\?/, "");
    } catch (error) {
      throw new IdentityError(`the release container's SAS: ${(error as Error).message}`);
    }
  };
  const hubCall = async (path: string, body: unknown): Promise<Answer> => {
    const url = new URL(`/devices/${device}/${path}?api-version=${IOT_HUB_API_VERSION}`, hub);
    return call(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: Buffer.from(JSON.stringify(body)),
      tls: tlsFiles(id),
    });
  };
  return {
    async read(loc) {
      const base = id.blobEndpoint ?? `https://${loc.account}.blob.core.windows.net`;
      const url = new URL(`${base.replace(/\/$/, "")}/${loc.bucket}/${escapePath(loc.key)}?${sas()}`);
      const answer = await call(url, {
        method: "GET",
        headers: { "x-ms-version": BLOB_API_VERSION },
        tls: { ca: tlsFiles(id).ca },
      });
      if (answer.status === 404) return null;
      if (answer.status !== 200)
        throw new AzureStatusError(
          `${url.origin}${url.pathname}`,
          answer.status,
          answer.body.toString("utf8"),
        );
      return answer.body;
    },
    async upload(name, body) {
      const asked = await hubCall("files", { blobName: name });
      if (asked.status !== 200)
        throw new AzureStatusError(`${new URL(hub).host} (file upload)`, asked.status, asked.body.toString());
      let grant: z.infer<typeof uploadGrant>;
      try {
        grant = uploadGrant.parse(JSON.parse(asked.body.toString("utf8")));
      } catch (error) {
        throw new Error(`${new URL(hub).host} granted no upload: ${(error as Error).message}`);
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
          tls: { ca: tlsFiles(id).ca },
        });
      } catch (error) {
        failure = error;
      }
      const ok = put?.status === 201;
      // the hub holds a few uploads per device open until told: it is told either way
      const told = await hubCall("files/notifications", {
        correlationId: grant.correlationId,
        isSuccess: ok,
        statusCode: put?.status ?? 0,
        statusDescription: ok
          ? "uploaded"
          : String((failure as Error)?.message ?? put?.body.toString("utf8")),
      });
      if (failure) throw failure;
      if (!ok)
        throw new AzureStatusError(`${blob.origin}${blob.pathname}`, put!.status, put!.body.toString("utf8"));
      if (told.status !== 204 && told.status !== 200)
        throw new AzureStatusError(
          `${new URL(hub).host} (upload notification)`,
          told.status,
          told.body.toString(),
        );
    },
  };
}
