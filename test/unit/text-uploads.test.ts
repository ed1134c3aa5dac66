import { describe, expect, it } from "vitest";
import { QuantaError } from "../../electron/contract/errors.js";
import { TextUploads } from "../../electron/core/uploads/text-uploads.js";

describe("text uploads", () => {
  it("joins the parts in order once every announced character has arrived", () => {
    const uploads = new TextUploads();
    const { uploadId } = uploads.start(6);
    expect(uploads.append(uploadId, "量化")).toEqual({ receivedChars: 2 });
    expect(() => uploads.take(uploadId)).toThrow(/incomplete: 2 of 6/);
    uploads.append(uploadId, "模型精度");
    expect(uploads.take(uploadId)).toBe("量化模型精度");
    expect(() => uploads.take(uploadId)).toThrow(QuantaError);
  });

  it("refuses more than was announced, and forgets the upload", () => {
    const uploads = new TextUploads();
    const { uploadId } = uploads.start(3);
    expect(() => uploads.append(uploadId, "abcd")).toThrow(/longer than the 3 characters/);
    expect(() => uploads.append(uploadId, "a")).toThrow(/not open any more/);
  });

  it("keeps at most four open, the oldest giving way, and forgets idle ones after ten minutes", () => {
    let now = 0;
    const uploads = new TextUploads(() => now);
    const ids = [1, 2, 3, 4, 5].map(() => {
      now += 1;
      return uploads.start(1).uploadId;
    });
    expect(() => uploads.append(ids[0] ?? "", "a")).toThrow(/not open/);
    expect(uploads.append(ids[4] ?? "", "a")).toEqual({ receivedChars: 1 });
    now += 10 * 60 * 1000 + 10;
    expect(() => uploads.take(ids[4] ?? "")).toThrow(/not open/);
  });
});
