// The window's view-only preferences (theme, list order), read once and saved on change.

import { useCallback, useEffect, useState } from 'preact/hooks';
import {
  DEFAULT_PREFERENCES,
  applyTheme,
  loadPreferences,
  savePreference,
  type Preferences,
  type ThemeChoice,
} from '../prefs';

export function usePreferences() {
  const [prefs, setPrefs] = useState<Preferences>(DEFAULT_PREFERENCES);

  useEffect(() => {
    void loadPreferences().then((p) => {
      setPrefs(p);
      applyTheme(p.theme);
    });
  }, []);

  const updatePref = useCallback(<K extends 'theme' | 'sort'>(key: K, value: Preferences[K]) => {
    setPrefs((p) => ({ ...p, [key]: value }));
    if (key === 'theme') applyTheme(value as ThemeChoice);
    void savePreference(key, value);
  }, []);

  return { prefs, updatePref };
}
