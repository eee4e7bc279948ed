// Inline validation of the credential form: the same rules the core applies, checked as
// the merchant types, so most mistakes are explained next to the field before saving.
// The core validates again on save; its answer wins.

import type { Environment } from './bindings/Environment';
import type { FieldSchema } from './bindings/FieldSchema';

export const NAME_MAX = 64;

/** Why `name` is not a valid credential name, or null. */
export function nameProblem(name: string, taken: readonly string[]): string | null {
  const n = name.trim();
  if (n === '') return 'Enter a name, e.g. main-shop.';
  if (n.length > NAME_MAX) return `Use at most ${NAME_MAX} characters (now ${n.length}).`;
  if (!/^[A-Za-z0-9]/.test(n)) return 'Start with a letter or digit.';
  const bad = [...n].find((ch) => !/[A-Za-z0-9._-]/.test(ch));
  if (bad !== undefined) {
    return `“${bad === ' ' ? 'space' : bad}” is not allowed: use letters, digits, dot, underscore or dash.`;
  }
  if (taken.includes(n)) return `“${n}” is already used in this vault. Pick another name.`;
  return null;
}

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Why `value` is not a URL Tillkey will send credentials to, or null. */
export function urlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'Enter a full URL starting with https://';
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    return 'Use https://. Plain http is allowed only for this computer (localhost).';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return `${url.protocol.replace(':', '')} URLs are not supported; use https://`;
  }
  if (url.hostname === '') return 'The URL needs a host name.';
  if (url.username !== '' || url.password !== '') return 'Leave the user name and password out of the URL.';
  return null;
}

/** The rest of a credential form, for requirements that depend on it. */
export interface FormContext {
  env: Environment | undefined;
  /** Every field of the provider's schema. */
  fields: readonly FieldSchema[];
  /** The values typed so far, by field name. */
  values: Readonly<Record<string, string>>;
}

function hasDefault(field: FieldSchema, env: Environment | undefined): boolean {
  return env !== undefined && field.defaults[env] !== undefined;
}

/**
 * Whether the merchant must type a value into `field` now, as the core decides on save: it
 * is required and has no default in this environment, or it is required unless another
 * field has a value (`requiredUnless`, e.g. eReceipt's `identity_url` unless `token_url`)
 * and that one is empty, with no default either.
 */
export function mustFill(field: FieldSchema, form: FormContext): boolean {
  if (field.input === 'bool' || hasDefault(field, form.env)) return false;
  if (field.required) return true;
  const other = field.requiredUnless;
  if (other === null) return false;
  const otherField = form.fields.find((f) => f.name === other);
  const otherSet =
    (form.values[other] ?? '').trim() !== '' || (otherField !== undefined && hasDefault(otherField, form.env));
  return !otherSet;
}

/**
 * Why a field's value is not acceptable, or null. `required`: whether an empty value is a
 * problem now (see `mustFill`); `orElse`: what the merchant may fill instead (the field a
 * `requiredUnless` names), added to the message.
 */
export function fieldProblem(field: FieldSchema, value: string, required: boolean, orElse?: string): string | null {
  const v = field.secret ? value.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '') : value.trim();
  if (v === '') {
    return required ? `Enter the ${field.label.toLowerCase()}${orElse ? `, or ${orElse}` : ''}.` : null;
  }
  if (field.maxLen !== null && [...v].length > field.maxLen) {
    return `${field.label} allows at most ${field.maxLen} characters (now ${[...v].length}).`;
  }
  if (/[\u0000-\u001f\u007f]/.test(v)) return 'Remove the control characters (tabs, line breaks).';
  if (field.input === 'url') return urlProblem(v);
  if (field.input === 'choice' && !field.choices.includes(v)) {
    return `Choose one of: ${field.choices.join(', ')}.`;
  }
  return null;
}
