// Texts too large for one message (an evaluation text of 2 M characters is 6 MB of UTF-8)
// arrive in parts of at most TEXT_PART_MAX_CHARS, in order, and are taken whole once
// complete. Bounded: a few open uploads at a time, each no longer than it said it would be,
// forgotten after a while without a part (a closed tab leaves nothing behind for long).

import { newId } from "../../common/ids.js";
import { TEXT_PART_MAX_CHARS } from "../../contract/api.js";
import { QuantaError } from "../../contract/errors.js";

const MAX_OPEN_UPLOADS = 4;
const IDLE_LIMIT_MS = 10 * 60 * 1000;

interface OpenUpload {
  chars: number;
  received: number;
  parts: string[];
  touchedAt: number;
}

export class TextUploads {
  private readonly open = new Map<string, OpenUpload>();

  constructor(private readonly now: () => number = Date.now) {}

  start(chars: number): { uploadId: string; partChars: number } {
    this.forgetIdle();
    // The oldest upload gives way: a tab that stopped halfway should not block the next one.
    while (this.open.size >= MAX_OPEN_UPLOADS) {
      const oldest = [...this.open.entries()].sort((a, b) => a[1].touchedAt - b[1].touchedAt)[0];
      if (!oldest) break;
      this.open.delete(oldest[0]);
    }
    const uploadId = `upload-${newId()}`;
    this.open.set(uploadId, { chars, received: 0, parts: [], touchedAt: this.now() });
    return { uploadId, partChars: TEXT_PART_MAX_CHARS };
  }

  append(uploadId: string, text: string): { receivedChars: number } {
    const upload = this.find(uploadId);
    if (upload.received + text.length > upload.chars) {
      this.open.delete(uploadId);
      throw new QuantaError("invalid_request", `The upload is longer than the ${upload.chars} characters it announced; send it again.`);
    }
    upload.parts.push(text);
    upload.received += text.length;
    upload.touchedAt = this.now();
    return { receivedChars: upload.received };
  }

  /** The whole text, once every character announced has arrived; the upload is then closed. */
  take(uploadId: string): string {
    const upload = this.find(uploadId);
    if (upload.received !== upload.chars) {
      throw new QuantaError("invalid_request", `The upload is incomplete: ${upload.received} of ${upload.chars} characters arrived.`);
    }
    this.open.delete(uploadId);
    return upload.parts.join("");
  }

  private find(uploadId: string): OpenUpload {
    this.forgetIdle();
    const upload = this.open.get(uploadId);
    if (!upload)
      throw new QuantaError("not_found", "That upload is not open any more (it finished, or waited too long). Send the text again.");
    return upload;
  }

  private forgetIdle(): void {
    const limit = this.now() - IDLE_LIMIT_MS;
    for (const [id, upload] of this.open) if (upload.touchedAt < limit) this.open.delete(id);
  }
}
