/** Reading a response body with a byte cap: what is past the cap is not downloaded. */

/** At most `max` bytes of the body; `capped` when there was more (the rest is cancelled, not read). */
export async function readAtMost(res: Response, max: number): Promise<{ bytes: Uint8Array; capped: boolean }> {
  if (!res.body) return { bytes: new Uint8Array(), capped: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      return { bytes: Buffer.concat(chunks).subarray(0, max), capped: true };
    }
  }
  return { bytes: Buffer.concat(chunks), capped: false };
}
