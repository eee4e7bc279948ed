// Display helpers: dates, durations, token and rotation status in words.

import type { CredentialSummary } from './bindings/CredentialSummary';
import type { Environment } from './bindings/Environment';
import type { RotationInfo } from './bindings/RotationInfo';
import type { Stage } from './bindings/Stage';
import type { RateLimit } from './bindings/RateLimit';

const dateFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
});

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** "Nov 23, 2025" style date in the merchant's locale; the raw value if unparsable. */
export function formatDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateFormat.format(d);
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : timeFormat.format(d);
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** A span in the largest sensible unit: "45 s", "42 min", "5 h", "3 days". */
export function span(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 120 * 60) return `${Math.floor(s / 60)} min`;
  if (s < 48 * 3600) return `${Math.floor(s / 3600)} h`;
  return plural(Math.floor(s / 86400), 'day');
}

/** "just now", "3 min ago", "2 days ago". */
export function ago(iso: string, now: number): string {
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const ms = now - t;
  if (ms < 45_000) return 'just now';
  return `${span(ms)} ago`;
}

export type Tone = 'ok' | 'warn' | 'bad' | 'muted';

/** Whether a credential's secret is itself the token (Paysera POS PAT, static bearer). */
export function isStaticToken(c: CredentialSummary): boolean {
  return c.secretFields.includes('token');
}

/** Token status in words, counting down against `now` (ms on the app's clock). */
export function tokenStatus(c: CredentialSummary, now: number): { text: string; tone: Tone; detail: string } {
  if (c.token) {
    const expires = new Date(c.token.expiresAt).getTime();
    const renew = new Date(c.token.renewAt).getTime();
    if (expires <= now) {
      return { text: 'expired', tone: 'bad', detail: `Expired ${formatDate(c.token.expiresAt)} ${formatTime(c.token.expiresAt)}; a new one is fetched on next use` };
    }
    const refresh = c.token.refreshable ? ' (refreshable)' : '';
    return {
      text: `valid for ${span(expires - now)}`,
      tone: renew <= now ? 'warn' : 'ok',
      detail: renew <= now
        ? `Renewed on next use${refresh}`
        : `Expires at ${formatTime(c.token.expiresAt)}${refresh}`,
    };
  }
  if (isStaticToken(c)) {
    // A date given in the form, else the token's own (a PAT in JWT form: its `exp`).
    const stated = c.fields.expires_at || c.secretAges.find((a) => a.field === 'token')?.expiresAt;
    const exp = stated ? new Date(stated).getTime() : NaN;
    if (stated && !Number.isNaN(exp)) {
      return exp <= now
        ? { text: 'static token expired', tone: 'bad', detail: 'Rotate it with a new token' }
        : { text: `static, valid for ${span(exp - now)}`, tone: 'ok', detail: `Expires ${formatDate(stated)}` };
    }
    return { text: 'static token', tone: 'ok', detail: 'Used as is; no expiry stated' };
  }
  return { text: 'no token yet', tone: 'muted', detail: 'Fetched on first use (Test or Copy)' };
}

/** Rotation status as a short label and a sentence with the numbers. */
export function rotationText(rotation: RotationInfo): { label: string; detail: string } {
  // ts-rs may type i64 as bigint; serde_json always sends a JSON number.
  const days = Number(rotation.daysLeft);
  const due = formatDate(rotation.dueAt);
  switch (rotation.status) {
    case 'ok':
      return { label: 'Up to date', detail: `Rotate in ${plural(days, 'day')} (${due})` };
    case 'dueSoon':
      return {
        label: days <= 0 ? 'Due today' : `Due in ${plural(days, 'day')}`,
        detail: `Rotate by ${due}`,
      };
    case 'overdue':
      return {
        label: `Overdue by ${plural(Math.max(1, -days), 'day')}`,
        detail: `Was due ${due}`,
      };
  }
}

const ENVIRONMENT_LABELS: Record<Environment, string> = {
  production: 'Production',
  sandbox: 'Sandbox',
};

export function environmentLabel(env: Environment): string {
  return ENVIRONMENT_LABELS[env];
}

const STAGE_LABELS: Record<Stage, string> = {
  vault: 'Vault',
  connect: 'Connect',
  token: 'Token',
  api: 'API call',
};

export function stageLabel(stage: Stage): string {
  return STAGE_LABELS[stage];
}

/** "49 of 50 left, resets in 60 s" */
export function rateLimitText(r: RateLimit): string {
  const parts: string[] = [];
  if (r.remaining !== null && r.limit !== null) parts.push(`${r.remaining} of ${r.limit} left`);
  else if (r.remaining !== null) parts.push(`${r.remaining} left`);
  else if (r.limit !== null) parts.push(`limit ${r.limit}`);
  if (r.resetSecs !== null) parts.push(`resets in ${r.resetSecs} s`);
  if (r.retryAfterSecs !== null) parts.push(`retry after ${r.retryAfterSecs} s`);
  return parts.join(', ');
}

/** Sort weight for "rotation due first". */
export function rotationDueSortKey(c: CredentialSummary): number {
  const t = new Date(c.rotation.dueAt).getTime();
  return Number.isNaN(t) ? Number.MAX_SAFE_INTEGER : t;
}

/** Sort weight for "token expiring first" (no token last). */
export function tokenExpirySortKey(c: CredentialSummary): number {
  const t = c.token ? new Date(c.token.expiresAt).getTime() : NaN;
  return Number.isNaN(t) ? Number.MAX_SAFE_INTEGER : t;
}
