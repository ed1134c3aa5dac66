// Links in model output open only through here, and only when they are https: a reply is
// untrusted text, so file:, javascript:, custom schemes and plain http are refused.

import { QuantaError } from "../../contract/errors.js";
import type { OpenExternalResult } from "../../contract/types.js";

export function checkExternalUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new QuantaError("invalid_request", "That link is not a valid address.");
  }
  if (url.protocol !== "https:") throw new QuantaError("invalid_request", "Only https links are opened.");
  if (url.username !== "" || url.password !== "") {
    throw new QuantaError("invalid_request", "Links with a user name or password in them are not opened.");
  }
  return url.href;
}

/** The desktop opens it in the system browser; headless mode hands it back for the page to open. */
export async function openExternalLink(
  text: string,
  open: ((url: string) => Promise<void>) | undefined,
): Promise<OpenExternalResult> {
  const url = checkExternalUrl(text);
  if (!open) return { opened: false, url };
  await open(url);
  return { opened: true, url };
}
