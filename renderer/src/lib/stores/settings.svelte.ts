// Owns the renderer's own preferences: for now, the interface language. Talks to
// localStorage (the choice survives reloads) and to <html lang>; never to the core, since
// the language is a per-window choice.

import { isLanguage, languageFromNavigator, type Language } from "../i18n/languages.js";

const LANGUAGE_KEY = "quanta.language";

function storedLanguage(): Language | null {
  try {
    const value = localStorage.getItem(LANGUAGE_KEY);
    return isLanguage(value) ? value : null;
  } catch {
    // Storage can be unavailable (privacy settings); the browser's language still applies.
    return null;
  }
}

class SettingsStore {
  language = $state<Language>(storedLanguage() ?? languageFromNavigator(navigator.languages));

  constructor() {
    document.documentElement.lang = this.language;
  }

  setLanguage(language: Language): void {
    this.language = language;
    document.documentElement.lang = language;
    try {
      localStorage.setItem(LANGUAGE_KEY, language);
    } catch {
      // Not persisted; the choice still holds for this session.
    }
  }
}

export const settings = new SettingsStore();
