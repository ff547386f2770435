// Newline-delimited framing with a size cap. A line longer than the cap is never
// buffered whole: the reader streams it through a small scanner that finds the value of
// its top-level "id" member (so the sender can be answered), discards the bytes, reports
// it once, and goes on with the next line. Memory stays bounded by the cap whatever a
// peer sends.
// Input distrusted: the byte stream.

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** Enough for the longest valid id (256 characters, each up to a 6-byte `\uXXXX` escape). */
const MAX_ID_BYTES = 2048;

export interface FrameHandlers {
  /** A complete line (without its newline), decoded; null when it was not valid UTF-8. */
  line(text: string | null): void;
  /** A line over the cap: its top-level id, if it has one, and its full size. */
  oversize(id: string | number | null, bytes: number): void;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Finds the top-level `"id"` member of a JSON object fed to it in pieces, in constant
 * memory, ignoring any `"id"` nested deeper (an argument, a structured result). Tolerant
 * of broken JSON: it reports what it found, or null.
 */
export class TopLevelIdScanner {
  #depth = 0;
  #inString = false;
  #escape = false;
  /** At depth 1: expecting a key, or a value after ':'. */
  #state: 'key' | 'value' = 'key';
  #capture: number[] | null = null;
  #truncated = false;
  #capturing: 'key' | 'id-string' | null = null;
  #lastKey = '';
  #literal: number[] | null = null;
  #id: string | number | null = null;

  feed(bytes: Uint8Array): void {
    for (const byte of bytes) this.#byte(byte);
  }

  #append(byte: number): void {
    if (!this.#capture) return;
    if (this.#capture.length < MAX_ID_BYTES) this.#capture.push(byte);
    else this.#truncated = true;
  }

  #byte(byte: number): void {
    if (this.#inString) {
      if (this.#escape) {
        this.#escape = false;
        this.#append(byte);
      } else if (byte === BACKSLASH) {
        this.#escape = true;
        this.#append(byte);
      } else if (byte === QUOTE) {
        this.#inString = false;
        this.#endString();
      } else this.#append(byte);
      return;
    }
    if (this.#literal !== null) {
      if (
        (byte >= 0x30 && byte <= 0x39) ||
        byte === 0x2d ||
        byte === 0x2b ||
        byte === 0x2e ||
        byte === 0x65 ||
        byte === 0x45
      ) {
        if (this.#literal.length < 32) this.#literal.push(byte);
        return;
      }
      this.#endLiteral();
    }
    switch (byte) {
      case QUOTE:
        this.#inString = true;
        if (this.#depth === 1 && this.#state === 'key') this.#startCapture('key');
        else if (this.#depth === 1 && this.#state === 'value' && this.#lastKey === 'id') {
          this.#startCapture('id-string');
        }
        return;
      case 0x7b: // {
      case 0x5b: // [
        this.#depth += 1;
        if (this.#depth === 1) this.#state = 'key';
        return;
      case 0x7d: // }
      case 0x5d: // ]
        this.#depth -= 1;
        return;
      case 0x3a: // :
        if (this.#depth === 1) this.#state = 'value';
        return;
      case 0x2c: // ,
        if (this.#depth === 1) {
          this.#state = 'key';
          this.#lastKey = '';
        }
        return;
      default:
        if (this.#depth === 1 && this.#state === 'value' && this.#lastKey === 'id') {
          if ((byte >= 0x30 && byte <= 0x39) || byte === 0x2d) this.#literal = [byte];
        }
    }
  }

  #startCapture(kind: 'key' | 'id-string'): void {
    this.#capture = [];
    this.#truncated = false;
    this.#capturing = kind;
  }

  #endString(): void {
    const raw = this.#capture ? Buffer.from(this.#capture).toString('utf8') : '';
    // Keys and ids are compared decoded (`"\u0069d"` is `id`); a truncated one is unknown.
    let decoded: string | null = null;
    if (!this.#truncated) {
      try {
        decoded = JSON.parse(`"${raw}"`) as string;
      } catch {
        decoded = null;
      }
    }
    // The last top-level id wins, as in JSON.parse.
    if (this.#capturing === 'key') this.#lastKey = decoded ?? '';
    else if (this.#capturing === 'id-string') this.#id = decoded;
    this.#capture = null;
    this.#capturing = null;
  }

  #endLiteral(): void {
    const text = Buffer.from(this.#literal ?? []).toString('latin1');
    this.#literal = null;
    const value = Number(text);
    this.#id = Number.isSafeInteger(value) ? value : null;
  }

  /** The top-level id, once the whole message has been fed (or as far as it went). */
  result(): string | number | null {
    if (this.#literal !== null) this.#endLiteral();
    return this.#id;
  }
}

/** The top-level id of a (possibly broken) JSON text, or null. */
export function topLevelId(text: string): string | number | null {
  const scanner = new TopLevelIdScanner();
  scanner.feed(Buffer.from(text, 'utf8'));
  return scanner.result();
}

export class LineReader {
  readonly #max: number;
  readonly #handlers: FrameHandlers;
  #parts: Buffer[] = [];
  #size = 0;
  #scanner: TopLevelIdScanner | null = null;

  constructor(maxBytes: number, handlers: FrameHandlers) {
    this.#max = maxBytes;
    this.#handlers = handlers;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl;
      this.#take(chunk.subarray(start, end));
      if (nl === -1) return;
      this.#emit();
      start = nl + 1;
    }
  }

  /** End of stream: a final line without a newline still counts. */
  end(): void {
    if (this.#size > 0 || this.#scanner) this.#emit();
  }

  #take(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.#scanner) {
      this.#scanner.feed(piece);
      this.#size += piece.length;
      return;
    }
    if (this.#size + piece.length > this.#max) {
      // Over the cap: from here on, bytes are scanned for the id and dropped.
      this.#scanner = new TopLevelIdScanner();
      for (const part of this.#parts) this.#scanner.feed(part);
      this.#scanner.feed(piece);
      this.#parts = [];
      this.#size += piece.length;
      return;
    }
    this.#parts.push(Buffer.from(piece));
    this.#size += piece.length;
  }

  #emit(): void {
    if (this.#scanner) {
      const id = this.#scanner.result();
      const size = this.#size;
      this.#reset();
      this.#handlers.oversize(id, size);
      return;
    }
    let bytes = this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts);
    this.#reset();
    if (bytes.length > 0 && bytes[bytes.length - 1] === 13)
      bytes = bytes.subarray(0, bytes.length - 1);
    if (bytes.length === 0) return; // blank lines are ignored
    let text: string | null;
    try {
      text = decoder.decode(bytes);
    } catch {
      text = null;
    }
    this.#handlers.line(text);
  }

  #reset(): void {
    this.#parts = [];
    this.#size = 0;
    this.#scanner = null;
  }
}
