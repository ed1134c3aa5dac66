// Hands a file to the browser as a download: a blob URL on an <a download>, clicked, then
// revoked. The desktop shell allows blob: downloads from app://; the page never writes files.

export function download(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  link.rel = "noopener";
  link.style.display = "none";
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the URL by now; a minute is ample for slow pickers.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A file-name-safe local timestamp: 2025-03-14_09-26-53. */
export function fileStamp(date = new Date()): string {
  const pad = (value: number) => String(value).padStart(2, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}_` +
    `${pad(date.getHours())}-${pad(date.getMinutes())}-${pad(date.getSeconds())}`
  );
}
