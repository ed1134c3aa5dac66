// Owns the renderer's own preferences: the interface language, the theme and the hardware monitor's
// sample rate. Talks to localStorage (the choices survive reloads) and to <html lang>; never
// to the core, since both are per-window choices (the core samples at each window's rate).

import type { DEFAULT_SAMPLE_INTERVAL_MS, MAX_SAMPLE_INTERVAL_MS, MIN_SAMPLE_INTERVAL_MS } from "../api/index.js";
import { isLanguage, languageFromNavigator, type Language } from "../i18n/languages.js";

const LANGUAGE_KEY = "quanta.language";
const THEME_KEY = "quanta.theme";

export const THEMES = ["system", "light", "dark"] as const;
export type Theme = (typeof THEMES)[number];

export function isTheme(value: unknown): value is Theme {
  return (THEMES as readonly unknown[]).includes(value);
}
const SAMPLE_INTERVAL_KEY = "quanta.sampleIntervalMs";

/**
 * The offered sample rates, 4 Hz to 0.2 Hz. The first, middle and last are typed as the
 * contract's bounds and default, so a change there fails the typecheck here.
 */
export const SAMPLE_INTERVALS_MS: readonly [
  typeof MIN_SAMPLE_INTERVAL_MS,
  500,
  typeof DEFAULT_SAMPLE_INTERVAL_MS,
  2000,
  typeof MAX_SAMPLE_INTERVAL_MS,
] = [250, 500, 1000, 2000, 5000];

const DEFAULT_INTERVAL_MS: typeof DEFAULT_SAMPLE_INTERVAL_MS = 1000;

export type SampleInterval = (typeof SAMPLE_INTERVALS_MS)[number];

export function isSampleInterval(value: unknown): value is SampleInterval {
  return (SAMPLE_INTERVALS_MS as readonly unknown[]).includes(value);
}

function stored(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    // Storage can be unavailable (privacy settings); the defaults still apply.
    return null;
  }
}

function store(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Not persisted; the choice still holds for this session.
  }
}

function storedLanguage(): Language | null {
  const value = stored(LANGUAGE_KEY);
  return isLanguage(value) ? value : null;
}

function storedInterval(): SampleInterval | null {
  const value = Number(stored(SAMPLE_INTERVAL_KEY));
  return isSampleInterval(value) ? value : null;
}

const darkQuery = typeof matchMedia === "function" ? matchMedia("(prefers-color-scheme: dark)") : null;

class SettingsStore {
  language = $state<Language>(storedLanguage() ?? languageFromNavigator(navigator.languages));
  theme = $state<Theme>(((value) => (isTheme(value) ? value : "system"))(stored(THEME_KEY)));
  sampleIntervalMs = $state<SampleInterval>(storedInterval() ?? DEFAULT_INTERVAL_MS);

  constructor() {
    document.documentElement.lang = this.language;
    this.#applyTheme();
    // "system" follows the system's setting as it changes.
    darkQuery?.addEventListener("change", () => this.#applyTheme());
  }

  setTheme(theme: Theme): void {
    this.theme = theme;
    store(THEME_KEY, theme);
    this.#applyTheme();
  }

  /** One place decides light or dark: <html data-theme>, which app.css reads. */
  #applyTheme(): void {
    const dark = this.theme === "dark" || (this.theme === "system" && darkQuery?.matches === true);
    document.documentElement.dataset.theme = dark ? "dark" : "light";
  }

  setLanguage(language: Language): void {
    this.language = language;
    document.documentElement.lang = language;
    store(LANGUAGE_KEY, language);
  }

  setSampleInterval(intervalMs: SampleInterval): void {
    this.sampleIntervalMs = intervalMs;
    store(SAMPLE_INTERVAL_KEY, String(intervalMs));
  }
}

export const settings = new SettingsStore();
