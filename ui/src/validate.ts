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

/** Whether the merchant must type a value (required and no default to fall back on). */
export function mustFill(field: FieldSchema, env: Environment | undefined): boolean {
  if (!field.required || field.input === 'bool') return false;
  return env === undefined || field.defaults[env] === undefined;
}

/**
 * Why a field's value is not acceptable, or null. `requiredAnyway` covers secrets that
 * are already stored (editing) and fields a sibling makes optional (`token_url`).
 */
export function fieldProblem(
  field: FieldSchema,
  value: string,
  env: Environment | undefined,
  optional = false,
): string | null {
  const v = field.secret ? value.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '') : value.trim();
  if (v === '') {
    return !optional && mustFill(field, env) ? `Enter the ${field.label.toLowerCase()}.` : null;
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
