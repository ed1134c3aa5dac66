// Which web pages may call the API: CORS on, and the page's Origin listed (or "*"). Any
// other page is refused outright, so a site the user visits cannot spend their machine.

export function isAllowedOrigin(origin: string, cors: { enabled: boolean; origins: readonly string[] }): boolean {
  if (!cors.enabled) return false;
  return cors.origins.includes("*") || cors.origins.some((allowed) => allowed.toLowerCase() === origin.toLowerCase());
}
