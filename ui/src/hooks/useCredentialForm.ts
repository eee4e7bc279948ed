// The state of the add/edit credential form: the provider and its values, inline problems
// (shown once a field was left or the form submitted), the current secrets typed again to
// confirm a new address, and saving.

import { useMemo, useState } from 'preact/hooks';
import { addCredential, editCredential, toApiError } from '../api';
import type { CredentialSummary } from '../bindings/CredentialSummary';
import type { Environment } from '../bindings/Environment';
import type { FieldSchema } from '../bindings/FieldSchema';
import type { IpcError } from '../bindings/IpcError';
import type { NewCredential } from '../bindings/NewCredential';
import type { ProviderSchema } from '../bindings/ProviderSchema';
import {
  NAME_KEY,
  PERIOD_KEY,
  initialValues,
  inputId,
  inSentence,
  isDestination,
  isPrimary,
  type Values,
} from '../form';
import { fieldProblem, mustFill, nameProblem, type FormContext } from '../validate';

export type FormMode = { kind: 'add' } | { kind: 'edit'; credential: CredentialSummary };

export function useCredentialForm(
  mode: FormMode,
  providers: ProviderSchema[],
  takenNames: string[],
  onSaved: (credential: CredentialSummary, test: boolean) => void,
) {
  const editing = mode.kind === 'edit' ? mode.credential : null;
  const [kind, setKind] = useState<string>(editing?.provider ?? '');
  const schema = useMemo(() => providers.find((p) => p.kind === kind), [providers, kind]);
  const [environment, setEnvironment] = useState<Environment | undefined>(editing?.environment ?? undefined);
  const [name, setNameValue] = useState(editing?.name ?? '');
  const [period, setPeriod] = useState(String(editing?.rotationPeriodDays ?? ''));
  const [values, setValues] = useState<Values>(() => initialValues(schema, editing?.environment, editing?.fields));
  const [touched, setTouched] = useState<ReadonlySet<string>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [error, setError] = useState<IpcError | null>(null);
  const [serverField, setServerField] = useState<{ field: string; message: string } | null>(null);
  const [submitting, setSubmitting] = useState<null | 'save' | 'test'>(null);
  const [optionalOpen, setOptionalOpen] = useState(false);
  // The current secret values, typed again to confirm a new address (edit only). They live
  // only here until sent with the edit, and are cleared when Rust refuses them.
  const [confirm, setConfirm] = useState<Values>({});
  const [secretRequired, setSecretRequired] = useState(false);

  function pickKind(next: string) {
    const nextSchema = providers.find((p) => p.kind === next);
    const nextEnv = nextSchema?.environments[0];
    setKind(next);
    setEnvironment(nextEnv);
    setValues(initialValues(nextSchema, nextEnv));
    setTouched(new Set());
    setSubmitted(false);
    setError(null);
    setServerField(null);
  }

  const fields = schema?.fields ?? [];
  const context: FormContext = { env: environment, fields, values };
  const otherNames = takenNames.filter((n) => n !== editing?.name);
  // Where the secrets would go after this edit, where it differs from now.
  const moved = editing
    ? fields.filter((f) => isDestination(f) && (values[f.name] ?? '').trim() !== (editing.fields[f.name] ?? ''))
    : [];
  const confirmFields = editing ? fields.filter((f) => f.secret && editing.secretFields.includes(f.name)) : [];
  const confirmShown = confirmFields.length > 0 && (moved.length > 0 || secretRequired);

  /** Whether `field` must be filled now (its `requiredUnless` sibling may be empty or not). */
  const required = (field: FieldSchema) => mustFill(field, context);

  function problemOf(key: string): string | null {
    if (serverField && serverField.field === (key === NAME_KEY ? 'name' : key)) return serverField.message;
    if (key === NAME_KEY) return nameProblem(name, otherNames);
    if (key === PERIOD_KEY) {
      if (!editing) return null;
      const n = Number(period);
      return Number.isInteger(n) && n >= 1 && n <= 3650 ? null : 'Enter a whole number of days from 1 to 3650.';
    }
    const field = fields.find((f) => f.name === key);
    if (!field) return null;
    // Secrets already in the keyring need not be typed again when editing (they are not shown).
    if (field.secret && editing) return null;
    const must = required(field);
    // Name the field that would do instead, and where it is.
    const instead = must && !field.required ? fields.find((f) => f.name === field.requiredUnless) : undefined;
    const orElse = instead && `a ${inSentence(instead.label)}${isPrimary(instead) ? '' : ' under Optional settings'}`;
    return fieldProblem(field, values[key] ?? '', must, orElse);
  }

  function shown(key: string): string | null {
    return submitted || touched.has(key) ? problemOf(key) : null;
  }

  function touch(key: string) {
    if (!touched.has(key)) setTouched(new Set(touched).add(key));
  }

  function setValue(field: string, value: string) {
    setValues((v) => ({ ...v, [field]: value }));
    if (serverField?.field === field) setServerField(null);
  }

  function setName(value: string) {
    setNameValue(value);
    if (serverField?.field === 'name') setServerField(null);
  }

  function allKeys(): string[] {
    const keys = [NAME_KEY, ...fields.filter((f) => !(editing && f.secret)).map((f) => f.name)];
    if (editing) keys.push(PERIOD_KEY);
    return keys;
  }

  /** Opens "Optional settings" when `key` is in it. */
  function reveal(key: string) {
    if (fields.some((f) => f.name === key && !isPrimary(f))) setOptionalOpen(true);
  }

  async function save(schema: ProviderSchema): Promise<CredentialSummary> {
    if (editing) {
      const kept: Record<string, string> = {};
      for (const field of schema.fields) {
        if (field.secret) continue;
        const value = values[field.name] ?? '';
        if (field.input !== 'bool' && value.trim() === '') continue;
        kept[field.name] = value;
      }
      const currentSecrets: Record<string, string> = {};
      if (confirmShown) {
        for (const field of confirmFields) currentSecrets[field.name] = confirm[field.name] ?? '';
      }
      return editCredential(editing.name, {
        name: name.trim(),
        environment: environment ?? null,
        fields: kept,
        rotationPeriodDays: Number(period),
        currentSecrets,
      });
    }
    const request: NewCredential = {
      name: name.trim(),
      provider: schema.kind,
      environment: environment ?? null,
      fields: {},
      secrets: {},
    };
    for (const field of schema.fields) {
      const value = values[field.name] ?? '';
      if (field.input !== 'bool' && value.trim() === '') continue;
      if (field.secret) request.secrets[field.name] = value;
      else request.fields[field.name] = value;
    }
    return addCredential(request);
  }

  async function submit(test: boolean) {
    if (!schema || submitting) return;
    setSubmitted(true);
    setServerField(null);
    const invalid = allKeys().filter((k) => {
      if (k === NAME_KEY) return nameProblem(name, otherNames) !== null;
      return problemOf(k) !== null;
    });
    const first = invalid[0];
    if (first !== undefined) {
      setError(null);
      reveal(first);
      requestAnimationFrame(() => document.getElementById(inputId(first))?.focus());
      return;
    }

    setSubmitting(test ? 'test' : 'save');
    setError(null);
    try {
      onSaved(await save(schema), test);
    } catch (err) {
      const info = toApiError(err).info;
      setError(info);
      if (info.code === 'secret_required') {
        // Missing or not matching: clear what was typed and ask again.
        setSecretRequired(true);
        setConfirm({});
        const firstSecret = confirmFields[0];
        if (firstSecret) {
          requestAnimationFrame(() => document.getElementById(`cred-confirm-${firstSecret.name}`)?.focus());
        }
      }
      if (info.field) {
        setServerField({ field: info.field, message: info.message });
        reveal(info.field);
      }
    } finally {
      setSubmitting(null);
    }
  }

  return {
    editing,
    kind,
    schema,
    environment,
    name,
    period,
    values,
    error,
    submitting,
    optionalOpen,
    confirm,
    confirmFields,
    confirmShown,
    moved,
    secretRequired,
    required,
    shown,
    touch,
    pickKind,
    setEnvironment,
    setName,
    setPeriod,
    setValue,
    setError,
    setOptionalOpen,
    setConfirm,
    submit,
  };
}

export type CredentialFormState = ReturnType<typeof useCredentialForm>;
