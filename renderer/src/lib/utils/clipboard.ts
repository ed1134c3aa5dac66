// Copies text for the user. The async clipboard needs a secure context (app:// and
// 127.0.0.1 are); elsewhere a hidden textarea and execCommand stand in.

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- the fallback where navigator.clipboard (its successor, tried first) is refused
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  }
}
