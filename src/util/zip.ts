/**
 * Reads one file out of a zip archive with Node alone (no unzip on the machine): the central
 * directory names each entry, its local header locates the data, and the data is stored or
 * deflated. CRC-32 is checked. ZIP64 archives and encrypted entries are refused by name rather
 * than misread.
 */
import { crc32, inflateRawSync } from "node:zlib";

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;

export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly crc: number;
  /** Unix mode bits where the archive was made on Unix (external attributes' high half) */
  readonly mode: number;
  readonly localHeaderOffset: number;
  readonly flags: number;
}

function endOfCentralDirectory(zip: Buffer): number {
  // the record is 22 bytes plus a comment of at most 65535
  const lowest = Math.max(0, zip.length - 22 - 0xffff);
  for (let at = zip.length - 22; at >= lowest; at--)
    if (zip.readUInt32LE(at) === END_OF_CENTRAL_DIRECTORY) return at;
  throw new Error("not a zip archive (no end-of-central-directory record)");
}

export function zipEntries(zip: Buffer): ZipEntry[] {
  const end = endOfCentralDirectory(zip);
  const count = zip.readUInt16LE(end + 10);
  const offset = zip.readUInt32LE(end + 16);
  if (count === 0xffff || offset === 0xffffffff) throw new Error("ZIP64 archives are not supported");
  const entries: ZipEntry[] = [];
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== CENTRAL_ENTRY)
      throw new Error(`zip central directory entry ${i} is corrupt`);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    entries.push({
      flags: zip.readUInt16LE(at + 8),
      method: zip.readUInt16LE(at + 10),
      crc: zip.readUInt32LE(at + 16),
      compressedSize: zip.readUInt32LE(at + 20),
      size: zip.readUInt32LE(at + 24),
      mode: zip.readUInt32LE(at + 38) >>> 16,
      localHeaderOffset: zip.readUInt32LE(at + 42),
      name: zip.toString("utf8", at + 46, at + 46 + nameLength),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The bytes of the entry called `name`; throws naming the entry when it is absent or unreadable. */
export function readZipEntry(zip: Buffer, name: string): Buffer {
  const entry = zipEntries(zip).find((e) => e.name === name);
  if (!entry) throw new Error(`${name} is not in the archive`);
  if (entry.flags & 1) throw new Error(`${name} is encrypted`);
  if (entry.compressedSize === 0xffffffff || entry.size === 0xffffffff)
    throw new Error(`${name} needs ZIP64, which is not supported`);
  const at = entry.localHeaderOffset;
  if (zip.readUInt32LE(at) !== LOCAL_HEADER) throw new Error(`${name}: local header is corrupt`);
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  const raw = zip.subarray(start, start + entry.compressedSize);
  let data: Buffer;
  if (entry.method === 0) data = Buffer.from(raw);
  else if (entry.method === 8) data = inflateRawSync(raw);
  else
    throw new Error(`${name}: compression method ${entry.method} is not supported (stored or deflate only)`);
  if (data.length !== entry.size)
    throw new Error(`${name}: expected ${entry.size} bytes, got ${data.length}`);
  if (crc32(data) >>> 0 !== entry.crc >>> 0) throw new Error(`${name}: CRC-32 mismatch`);
  return data;
}
