/**
 * The two byte-level interfaces `@mcap/core` asks for, implemented over a node
 * `FileHandle`: a sequential sink for {@link McapWriter} and a random-access source for
 * {@link McapIndexedReader} (which reads only the footer, the summary and what it is asked
 * for, so listing a large recording costs a few small reads).
 */
import type { FileHandle } from "node:fs/promises";
import type { IReadable, IWritable } from "@mcap/core";

/** Appends everything written to a file, from offset 0; {@link position} is the byte count. */
export class FileHandleWritable implements IWritable {
  #position = 0;

  constructor(readonly handle: FileHandle) {}

  /** Bytes written so far (= the file's size while only this sink writes to it). */
  position(): bigint {
    return BigInt(this.#position);
  }

  /** Writes all of `buffer` at the end; loops over short writes. */
  async write(buffer: Uint8Array): Promise<void> {
    let done = 0;
    while (done < buffer.byteLength) {
      const { bytesWritten } = await this.handle.write(
        buffer,
        done,
        buffer.byteLength - done,
        this.#position + done,
      );
      if (bytesWritten <= 0) throw new Error("file write made no progress");
      done += bytesWritten;
    }
    this.#position += done;
  }
}

/** Reads byte ranges of a file of fixed size (the size is taken once, when first asked). */
export class FileHandleReadable implements IReadable {
  #size: bigint | undefined;

  constructor(readonly handle: FileHandle) {}

  /** File size, bytes. */
  async size(): Promise<bigint> {
    this.#size ??= BigInt((await this.handle.stat()).size);
    return this.#size;
  }

  /** Exactly `length` bytes from `offset`; rejects on a range past the end of the file. */
  async read(offset: bigint, length: bigint): Promise<Uint8Array> {
    const size = await this.size();
    if (offset < 0n || length < 0n || offset + length > size) {
      throw new RangeError(`read of ${length} bytes at ${offset} outside a ${size}-byte file`);
    }
    const n = Number(length);
    const start = Number(offset);
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const { bytesRead } = await this.handle.read(out, done, n - done, start + done);
      if (bytesRead <= 0) throw new Error(`file ended at ${start + done} of ${size} bytes`);
      done += bytesRead;
    }
    return out;
  }
}
