// Newline-delimited framing with a size cap. A line longer than the cap is never
// buffered whole: the reader keeps a short prefix (to find its id), discards the rest up
// to the next newline, reports it once, and goes on with the next line. Memory stays
// bounded by the cap whatever a peer sends.
// Input distrusted: the byte stream.

const PREFIX_BYTES = 4096;
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface FrameHandlers {
  /** A complete line (without its newline), decoded; null when it was not valid UTF-8. */
  line(text: string | null): void;
  /** A line over the cap: its first bytes (for a best-effort id) and its full size. */
  oversize(prefix: string, bytes: number): void;
}

export class LineReader {
  readonly #max: number;
  readonly #handlers: FrameHandlers;
  #parts: Buffer[] = [];
  #size = 0;
  #discarding = false;
  #prefix = '';

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
    if (this.#size > 0 || this.#discarding) this.#emit();
  }

  #take(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.#discarding) {
      this.#size += piece.length;
      return;
    }
    if (this.#size + piece.length > this.#max) {
      const head = Buffer.concat([...this.#parts, piece.subarray(0, PREFIX_BYTES)]).subarray(
        0,
        PREFIX_BYTES,
      );
      this.#prefix = head.toString('utf8');
      this.#discarding = true;
      this.#parts = [];
      this.#size += piece.length;
      return;
    }
    this.#parts.push(Buffer.from(piece));
    this.#size += piece.length;
  }

  #emit(): void {
    if (this.#discarding) {
      const prefix = this.#prefix;
      const size = this.#size;
      this.#reset();
      this.#handlers.oversize(prefix, size);
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
    this.#discarding = false;
    this.#prefix = '';
  }
}
