import assert from "node:assert/strict";
import { decode } from "fast-png";
import { encodeOpaquePng } from "../stages/figure/png.ts";

/** A 7×5 opaque RGBA raster whose every pixel differs from its neighbours. */
function gradient(width: number, height: number): Uint8Array {
  const pixels = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    pixels.set([i * 7 % 256, i * 13 % 256, i % 256, 255], i * 4);
  }
  return pixels;
}

Deno.test("figure png: an opaque raster decodes (by another decoder) to the same RGB pixels", () => {
  const [width, height] = [7, 5];
  const pixels = gradient(width, height);
  const image = decode(encodeOpaquePng({ width, height, pixels }));
  assert.deepEqual([image.width, image.height, image.channels, image.depth], [width, height, 3, 8]);
  const rgb = pixels.filter((_, i) => i % 4 !== 3);
  assert.deepEqual(Array.from(image.data), Array.from(rgb));
});

Deno.test("figure png: a transparent pixel is an error naming it, since alpha would be dropped", () => {
  const pixels = gradient(7, 5);
  pixels[(2 * 7 + 3) * 4 + 3] = 128;
  assert.throws(
    () => encodeOpaquePng({ width: 7, height: 5, pixels }),
    /pixel \(3, 2\) is not opaque/,
  );
});

Deno.test("figure png: a pixel buffer of the wrong size is an error giving both sizes", () => {
  assert.throws(
    () => encodeOpaquePng({ width: 7, height: 5, pixels: new Uint8Array(10) }),
    /10 bytes for 7×5 RGBA pixels/,
  );
});
