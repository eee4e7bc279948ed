// View-only UI preferences (theme, list order), kept by tauri-plugin-store.
//
// Nothing here changes what the vault or the CLI does; settings that do live in the
// vault's metadata file instead. A store that cannot be read falls back to defaults.

import { load, type Store } from '@tauri-apps/plugin-store';

export type ThemeChoice = 'system' | 'light' | 'dark';
export type SortOrder = 'name' | 'newest' | 'rotation' | 'token' | 'provider';

export interface Preferences {
  theme: ThemeChoice;
  sort: SortOrder;
}

export const DEFAULT_PREFERENCES: Preferences = { theme: 'system', sort: 'name' };

const THEMES: readonly ThemeChoice[] = ['system', 'light', 'dark'];
const SORTS: readonly SortOrder[] = ['name', 'newest', 'rotation', 'token', 'provider'];

let storePromise: Promise<Store> | null = null;

function store(): Promise<Store> {
  storePromise ??= load('ui-preferences.json', { autoSave: 200, defaults: {} });
  return storePromise;
}

function pick<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value)
    ? (value as T)
    : fallback;
}

/** Reads the saved preferences; defaults for anything missing or unreadable. */
export async function loadPreferences(): Promise<Preferences> {
  try {
    const s = await store();
    const [theme, sort] = await Promise.all([s.get<unknown>('theme'), s.get<unknown>('sort')]);
    return {
      theme: pick(theme, THEMES, DEFAULT_PREFERENCES.theme),
      sort: pick(sort, SORTS, DEFAULT_PREFERENCES.sort),
    };
  } catch {
    return DEFAULT_PREFERENCES;
  }
}

/** Saves one preference (auto-saved to disk shortly after). Failures are not fatal. */
export async function savePreference<K extends keyof Preferences>(
  key: K,
  value: Preferences[K],
): Promise<void> {
  try {
    const s = await store();
    await s.set(key, value);
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
    const v = await (await store()).get<unknown>('vault');
    return typeof v === 'string' && v !== '' ? v : null;
  } catch {
    return null;
  }
}

/** Remembers the vault chosen in the vault switcher, to reopen it next time. */
export async function saveLastVault(name: string): Promise<void> {
  try {
    await (await store()).set('vault', name);
  } catch {
    // Only costs a click next time.
  }
}
