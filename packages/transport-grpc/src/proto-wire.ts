/**
 * The few protobuf wire-format primitives the hand-written codecs need (event-codec.ts here, and
 * dial-home's Attach stream through it): varints, one-byte tags, length-delimited fields, doubles.
 * Only what the hot path writes; everything else goes through the generated schemas.
 */

/** Protobuf wire types. */
export const WireType = { VARINT: 0, I64: 1, LEN: 2 } as const;

/** A field's tag; one byte for fields 1–15, which is all the hand-written codecs use. */
export const tagOf = (field: number, wireType: number): number => (field << 3) | wireType;

export const varintSize = (v: number): number =>
  v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;

/** Bytes of a length-delimited field (one-byte tag) holding `bytes` bytes. */
export const lenFieldSize = (bytes: number): number => 1 + varintSize(bytes) + bytes;

/** Writes into a buffer sized beforehand (the callers add up the field sizes first: one allocation). */
export class ProtoWriter {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  static alloc(size: number): ProtoWriter {
    return new ProtoWriter(Buffer.allocUnsafe(size));
  }

  tag(field: number, wireType: number): void {
    this.buf[this.pos++] = (field << 3) | wireType;
  }

  /** An unsigned 32-bit value. */
  varint(v: number): void {
    while (v > 0x7f) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }

  /** A string field whose UTF-8 length (`bytes`) the caller has already measured. */
  string(field: number, s: string, bytes: number): void {
    this.buf[this.pos++] = (field << 3) | WireType.LEN;
    this.varint(bytes);
    this.pos += this.buf.write(s, this.pos, bytes, 'utf8');
  }

  /** A bytes field (or an embedded message already encoded). */
  bytes(field: number, b: Uint8Array): void {
    this.buf[this.pos++] = (field << 3) | WireType.LEN;
    this.varint(b.byteLength);
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
  }

  double(field: number, v: number): void {
    this.buf[this.pos++] = (field << 3) | WireType.I64;
    this.pos = this.buf.writeDoubleLE(v, this.pos);
  }
}

/** Reads `buf` from `start` to `end`; throws on anything truncated or malformed. */
export class ProtoReader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  static of(bytes: Uint8Array): ProtoReader {
    const buf = asBuffer(bytes);
    return new ProtoReader(buf, 0, buf.length);
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      if (shift < 28) result |= (b & 0x7f) << shift;
      else result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result >>> 0 === result ? result : result >>> 0;
      shift += 7;
      if (shift > 63) throw new Error('varint too long');
    }
  }

  /** The length of a length-delimited field, checked against what is left. */
  length(): number {
    const len = this.varint();
    if (len > this.end - this.pos) throw new Error('truncated length-delimited field');
    return len;
  }

  string(): string {
    const len = this.length();
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  double(): number {
    if (this.end - this.pos < 8) throw new Error('truncated double');
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
}

/** A Buffer view of the same bytes (no copy). */
export const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
