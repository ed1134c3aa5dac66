// Long bare numbers inside a sentence the page did not word itself (the core's English for an
// error it has no parameters for): "85912224 bytes" reads as "85,912,224 bytes". Numbers that
// are part of a name, a path, a version or a decimal are left alone.

const LONG_NUMBER = /(?<![\w.\-/:#])\d{5,}(?![\w\-/:]|\.\d)/g;

export function groupLongNumbers(text: string, format: (value: number) => string): string {
  return text.replace(LONG_NUMBER, (digits) => format(Number(digits)));
}
