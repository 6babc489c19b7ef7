// Encode blobs with the official Walrus encoder (@mysten/walrus-wasm, RS2,
// 1000 shards) and report what it produced: blob id and encoded length.
//
// stdin: [{"size": N, "symbol_size": S}, ...]  (S: the product's claim)
// The blob of size N holds bytes (i * 31 + 7) & 0xff. The sliver buffers are
// sized from the claimed symbol size; the encoder writes the BCS SliverData
// of each sliver and rejects a buffer of any other size, so a wrong claim
// fails here with the encoder's own message. The encoded length is measured
// from what the encoder wrote: every shard stores its two slivers' symbols
// plus the metadata (two 32-byte hashes per sliver pair, and the blob id).
import { BlobEncoder } from "@mysten/walrus-wasm";

const N_SHARDS = 1000;
const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (c) => (text += c));
  process.stdin.on("end", () => resolve(text));
}));

function uleb(n) { let s = 1; n >>>= 7; while (n) { s++; n >>>= 7; } return s; }
function readUleb(buf) {
  let value = 0, shift = 0, i = 0;
  for (;;) { const b = buf[i++]; value += (b & 0x7f) * 2 ** shift; if (!(b & 0x80)) break; shift += 7; }
  return [value, i];
}
function b64url(bytes) { return Buffer.from(bytes).toString("base64url"); }

const encoder = new BlobEncoder(N_SHARDS);
const out = [];
for (const { size, symbol_size } of input) {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 31 + 7) & 0xff;
  // Primary slivers hold the secondary-count symbols and vice versa (667 / 334 for 1000 shards).
  const primaryLen = 667 * symbol_size, secondaryLen = 334 * symbol_size;
  const bcsLen = (n) => uleb(n) + n + 2 + 2;  // data vec, symbol_size u16, index u16
  const primary = Array.from({ length: N_SHARDS }, () => new Uint8Array(bcsLen(primaryLen)));
  const secondary = Array.from({ length: N_SHARDS }, () => new Uint8Array(bcsLen(secondaryLen)));
  let metadata;
  try {
    [metadata] = encoder.encode(data, primary, secondary);
  } catch (e) {
    out.push({ size, error: String(e.message || e) });
    continue;
  }
  let symbols = 0, symbolSize = null;
  for (const buf of [...primary, ...secondary]) {
    const [n, at] = readUleb(buf);
    symbols += n;
    symbolSize = buf[at + n] | (buf[at + n + 1] << 8);
  }
  const hashes = metadata.metadata.V1.hashes.length;
  const metadataBytes = hashes * 2 * 32 + 32;
  out.push({
    size,
    blob_id: b64url(new Uint8Array(metadata.blob_id)),
    symbol_size: symbolSize,
    encoded_length: N_SHARDS * metadataBytes + symbols,
  });
}
encoder.free();
console.log(JSON.stringify(out));
