// The credential form's model: which fields it shows where, their first values, and the
// keys and element ids of its inputs. No rendering here (see components/CredentialForm.tsx).

import type { Environment } from './bindings/Environment';
import type { FieldSchema } from './bindings/FieldSchema';
import type { ProviderSchema } from './bindings/ProviderSchema';

export type Values = Record<string, string>;

/** Keys of the inputs that are not schema fields. */
export const NAME_KEY = '$name';
export const PERIOD_KEY = '$period';

/** The element id of the input of `key` (a schema field's name, NAME_KEY or PERIOD_KEY). */
export function inputId(key: string): string {
  if (key === NAME_KEY) return 'cred-name';
  if (key === PERIOD_KEY) return 'cred-period';
  return `cred-field-${key}`;
}

/**
 * Fields that say where a credential's secrets are sent: every URL field and Chimpy's
 * auth host. Changing one needs the current secrets typed again; the rule itself lives in
 * Rust (`Vault::edit`), which refuses with `secret_required`; this only shows the inputs
 * up front.
 */
export function isDestination(f: FieldSchema): boolean {
  return !f.secret && (f.input === 'url' || f.name === 'auth_host');
}

/**
 * Fields shown up front: required, secret, or required unless another field is set (the
 * rest, including that other field, go under "Optional settings").
 */
export function isPrimary(f: FieldSchema): boolean {
  return f.required || f.secret || f.requiredUnless !== null;
}

/** The form's first values: stored ones when editing, checkbox defaults, else empty. */
export function initialValues(schema: ProviderSchema | undefined, env: Environment | undefined, stored?: Values): Values {
  const values: Values = {};
  for (const field of schema?.fields ?? []) {
    if (field.secret) {
      values[field.name] = '';
    } else if (stored?.[field.name] !== undefined) {
      values[field.name] = stored[field.name] ?? '';
    } else if (field.input === 'bool') {
      // A checkbox always has a value; start it at the environment default.
      values[field.name] = env && field.defaults[env] === 'true' ? 'true' : 'false';
    } else {
      values[field.name] = '';
    }
  }
  return values;
}

/** "Token URL" → "token URL": a label inside a sentence. */
export function inSentence(label: string): string {
  return label.charAt(0).toLowerCase() + label.slice(1);
}
