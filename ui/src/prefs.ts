// View-only UI preferences (theme, list order, the vault chosen last), kept by Rust in one
// fixed file through the `get_preferences` / `set_preferences` commands.
//
// Nothing here changes what the vault or the CLI does; settings that do live in the
// vault's metadata file instead. Preferences that cannot be read fall back to defaults;
// the webview never names a file.

import { getPreferences, setPreferences } from './api';
import type { Preferences } from './bindings/Preferences';
import type { SortOrder } from './bindings/SortOrder';
import type { Theme } from './bindings/Theme';

export type { Preferences, SortOrder };
export type ThemeChoice = Theme;

export const DEFAULT_PREFERENCES: Preferences = { theme: 'system', sort: 'name', vault: null };

/** Reads the saved preferences; defaults when they cannot be read. */
export async function loadPreferences(): Promise<Preferences> {
  try {
    return await getPreferences();
  } catch {
    return DEFAULT_PREFERENCES;
  }
}

/** Saves one preference. Failures are not fatal. */
export async function savePreference<K extends 'theme' | 'sort'>(key: K, value: Preferences[K]): Promise<void> {
  try {
    await setPreferences({ [key]: value });
  } catch {
    // A preference that cannot be saved only costs the merchant a click next time.
  }
}

/** Applies a theme choice to the document (`system` follows prefers-color-scheme). */
export function applyTheme(theme: ThemeChoice): void {
  const root = document.documentElement;
  if (theme === 'system') {
    delete root.dataset.theme;
  } else {
    root.dataset.theme = theme;
  }
}

/** The vault chosen last in the vault switcher (`local` or a team vault's name), if any. */
export async function loadLastVault(): Promise<string | null> {
  try {
    const v = (await getPreferences()).vault;
    return v !== null && v !== '' ? v : null;
  } catch {
    return null;
  }
}

/** Remembers the vault chosen in the vault switcher, to reopen it next time. */
export async function saveLastVault(name: string): Promise<void> {
  try {
    await setPreferences({ vault: name });
  } catch {
    // Only costs a click next time.
  }
}
