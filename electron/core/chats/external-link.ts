// Links in model output open only through here, and only when they are https: a reply is
// untrusted text, so file:, javascript:, custom schemes and plain http are refused. The rule
// is common/external-link.ts's, the one the desktop shell and the renderer apply too; the
// opener the desktop passes applies the shell's link gate (one tab per second, any path).

import { checkHttpsLink, type LinkRefusal } from "../../common/external-link.js";
import { QuantaError } from "../../contract/errors.js";
import type { OpenExternalResult } from "../../contract/types.js";

const REFUSALS: Record<LinkRefusal, string> = {
  invalid: "That link is not a valid address.",
  not_https: "Only https links are opened.",
  credentials: "Links with a user name or password in them are not opened.",
};

export function checkExternalUrl(text: string): string {
  const checked = checkHttpsLink(text);
  if (!checked.ok) throw new QuantaError("invalid_request", REFUSALS[checked.reason]);
  return checked.url;
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
