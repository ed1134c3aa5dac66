// The desktop app's own origin (app://quanta) and the test for URLs of its pages. Pure: the
// Electron shell, the protocol handler and the security decisions share it.

export const APP_SCHEME = "app";
export const APP_HOST = "quanta";
/** The page's origin, as Chromium reports it for a scheme registered as standard. */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** True for a URL of this app's own pages (app://quanta/...). */
export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST;
  } catch {
    return false;
  }
}
