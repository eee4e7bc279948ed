import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { addCredential, editCredential, toApiError } from '../api';
import type { CredentialSummary } from '../bindings/CredentialSummary';
import type { Environment } from '../bindings/Environment';
import type { FieldSchema } from '../bindings/FieldSchema';
import type { IpcError } from '../bindings/IpcError';
import type { NewCredential } from '../bindings/NewCredential';
import type { ProviderSchema } from '../bindings/ProviderSchema';
import { environmentLabel } from '../format';
import { NAME_MAX, fieldProblem, mustFill, nameProblem } from '../validate';
import { ErrorNotice } from './ErrorNotice';
import { InlineCode } from './InlineCode';
import { SecretInput } from './SecretInput';

export type FormMode = { kind: 'add' } | { kind: 'edit'; credential: CredentialSummary };

interface Props {
  mode: FormMode;
  providers: ProviderSchema[];
  /** Names already in the vault (for the inline uniqueness check). */
  takenNames: string[];
  /** Called after a successful save; `test` when the merchant chose "Save and test". */
  onSaved: (credential: CredentialSummary, test: boolean) => void;
  onCancel: () => void;
}

type Values = Record<string, string>;

const NAME_KEY = '$name';
const PERIOD_KEY = '$period';
/** Fields that are optional only because a token URL can replace them. */
const UNLESS_TOKEN_URL = new Set(['identity_url', 'auth_host']);

/**
 * Fields that say where a credential's secrets are sent: every URL field and Chimpy's
 * auth host. Changing one needs the current secrets typed again; the rule itself lives in
 * Rust (`Vault::edit`), which refuses with `secret_required`; this only shows the inputs
 * up front.
 */
function isDestination(f: FieldSchema): boolean {
  return !f.secret && (f.input === 'url' || f.name === 'auth_host');
}

function initialValues(schema: ProviderSchema | undefined, env: Environment | undefined, stored?: Values): Values {
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

/** Fields shown up front: required, secret, or essential unless a token URL is set. */
function isPrimary(f: FieldSchema): boolean {
  return f.required || f.secret || UNLESS_TOKEN_URL.has(f.name);
}

/**
 * Add or edit a credential. Adding starts with a provider picker (name, what it is, which
 * flow), then a form generated from the provider's schema with help text, masked secret
 * inputs with reveal, an environment selector and inline validation. Editing changes the
 * non-secret parts only; secrets change through rotation.
 */
export function CredentialForm({ mode, providers, takenNames, onSaved, onCancel }: Props) {
  const editing = mode.kind === 'edit' ? mode.credential : null;
  const [kind, setKind] = useState<string>(editing?.provider ?? '');
  const schema = useMemo(() => providers.find((p) => p.kind === kind), [providers, kind]);
  const [environment, setEnvironment] = useState<Environment | undefined>(
    editing?.environment ?? undefined,
  );
  const [name, setName] = useState(editing?.name ?? '');
  const [period, setPeriod] = useState(String(editing?.rotationPeriodDays ?? ''));
  const [values, setValues] = useState<Values>(() =>
    initialValues(schema, editing?.environment, editing?.fields),
  );
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
  const headingRef = useRef<HTMLHeadingElement>(null);
  const errorRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    headingRef.current?.focus();
  }, []);

  useEffect(() => {
    if (error) errorRef.current?.scrollIntoView({ block: 'nearest' });
  }, [error]);

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

  const otherNames = takenNames.filter((n) => n !== editing?.name);
  // Where the secrets would go after this edit, where it differs from now.
  const moved =
    editing && schema
      ? schema.fields.filter(
          (f) => isDestination(f) && (values[f.name] ?? '').trim() !== (editing.fields[f.name] ?? ''),
        )
      : [];
  const confirmFields =
    editing && schema ? schema.fields.filter((f) => f.secret && editing.secretFields.includes(f.name)) : [];
  const confirmShown = confirmFields.length > 0 && (moved.length > 0 || secretRequired);
  const tokenUrlSet = (values.token_url ?? '').trim() !== '';

  function problemOf(key: string): string | null {
    if (serverField && serverField.field === (key === NAME_KEY ? 'name' : key)) return serverField.message;
    if (key === NAME_KEY) return nameProblem(name, otherNames);
    if (key === PERIOD_KEY) {
      if (!editing) return null;
      const n = Number(period);
      return Number.isInteger(n) && n >= 1 && n <= 3650 ? null : 'Enter a whole number of days from 1 to 3650.';
    }
    const field = schema?.fields.find((f) => f.name === key);
    if (!field) return null;
    const value = values[key] ?? '';
    // Secrets already in the keyring need not be typed again when editing (they are not shown).
    if (field.secret && editing) return null;
    if (UNLESS_TOKEN_URL.has(key) && value.trim() === '' && !tokenUrlSet) {
      return `Enter the ${field.label.toLowerCase()}, or a token URL under Optional settings.`;
    }
    return fieldProblem(field, value, environment);
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

  const allKeys = (): string[] => {
    const keys = [NAME_KEY, ...(schema?.fields.filter((f) => !(editing && f.secret)).map((f) => f.name) ?? [])];
    if (editing) keys.push(PERIOD_KEY);
    return keys;
  };

  async function submit(test: boolean) {
    if (!schema || submitting) return;
    setSubmitted(true);
    setServerField(null);
    const invalid = allKeys().filter((k) => {
      if (k === NAME_KEY) return nameProblem(name, otherNames) !== null;
      return problemOf(k) !== null;
    });
    if (invalid.length > 0) {
      setError(null);
      const first = invalid[0];
      const optionalField = schema.fields.find((f) => f.name === first && !isPrimary(f));
      if (optionalField) setOptionalOpen(true);
      const id = first === NAME_KEY ? 'cred-name' : first === PERIOD_KEY ? 'cred-period' : `cred-field-${first}`;
      requestAnimationFrame(() => document.getElementById(id)?.focus());
      return;
    }

    setSubmitting(test ? 'test' : 'save');
    setError(null);
    try {
      let saved: CredentialSummary;
      if (editing) {
        const fields: Record<string, string> = {};
        for (const field of schema.fields) {
          if (field.secret) continue;
          const value = values[field.name] ?? '';
          if (field.input !== 'bool' && value.trim() === '') continue;
          fields[field.name] = value;
        }
        const currentSecrets: Record<string, string> = {};
        if (confirmShown) {
          for (const field of confirmFields) currentSecrets[field.name] = confirm[field.name] ?? '';
        }
        saved = await editCredential(editing.name, {
          name: name.trim(),
          environment: environment ?? null,
          fields,
          rotationPeriodDays: Number(period),
          currentSecrets,
        });
      } else {
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
        saved = await addCredential(request);
      }
      onSaved(saved, test);
    } catch (err) {
      const info = toApiError(err).info;
      setError(info);
      if (info.code === 'secret_required') {
        // Missing or not matching: clear what was typed and ask again.
        setSecretRequired(true);
        setConfirm({});
        const first = confirmFields[0];
        if (first) requestAnimationFrame(() => document.getElementById(`cred-confirm-${first.name}`)?.focus());
      }
      if (info.field) {
        const key = info.field;
        setServerField({ field: key, message: info.message });
        const optionalField = schema.fields.find((f) => f.name === key && !isPrimary(f));
        if (optionalField) setOptionalOpen(true);
      }
    } finally {
      setSubmitting(null);
    }
  }

  function onKeyDown(e: KeyboardEvent) {
    if (e.key === 'Escape' && !submitting) {
      e.preventDefault();
      onCancel();
    }
  }

  const primary = schema?.fields.filter((f) => isPrimary(f) && !(editing && f.secret)) ?? [];
  const optional = schema?.fields.filter((f) => !isPrimary(f)) ?? [];
  const secretNames = schema?.fields.filter((f) => f.secret).map((f) => f.label) ?? [];

  function renderField(field: FieldSchema) {
    return (
      <SchemaField
        key={`${kind}:${field.name}`}
        field={field}
        environment={environment}
        value={values[field.name] ?? ''}
        problem={shown(field.name)}
        optional={UNLESS_TOKEN_URL.has(field.name) ? tokenUrlSet : false}
        onInput={(v) => setValue(field.name, v)}
        onBlur={() => touch(field.name)}
      />
    );
  }

  const title = editing ? `Edit “${editing.name}”` : 'Add credential';
  const nameProblemShown = shown(NAME_KEY);

  return (
    <section class="card form-card" aria-labelledby="form-title" onKeyDown={onKeyDown}>
      <header class="card-header">
        <div>
          <h2 id="form-title" class="card-title" tabIndex={-1} ref={headingRef}>
            {title}
          </h2>
          <p class="card-subtitle">
            {editing
              ? 'Change the name, environment, endpoints and rotation period. Secrets stay in the keyring; to change one, use Rotate.'
              : 'Pick the provider, then fill in what its portal shows. Secrets go straight to the OS keyring.'}
          </p>
        </div>
      </header>

      <form
        class="form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submit(true);
        }}
        data-testid="add-form"
        data-mode={mode.kind}
        aria-busy={submitting !== null}
      >
        {editing ? (
          <p class="form-provider" data-testid="edit-provider">
            <strong>{schema?.label ?? editing.providerLabel}</strong>{' '}
            <span class="provider-kind">{editing.provider}</span>
            {schema && <span class="field-flow"> · {schema.flow}</span>}
          </p>
        ) : (
          <fieldset class="picker">
            <legend class="field-label">
              Provider <span class="required-mark" aria-hidden="true">*</span>
            </legend>
            <div class="picker-grid" role="radiogroup" aria-required="true">
              {providers.map((p) => (
                <label
                  key={p.kind}
                  class={p.kind === kind ? 'picker-option picker-option-selected' : 'picker-option'}
                  data-testid={`provider-option-${p.kind}`}
                >
                  <input
                    type="radio"
                    name="provider"
                    value={p.kind}
                    checked={p.kind === kind}
                    aria-describedby={`provider-desc-${p.kind}`}
                    onChange={() => pickKind(p.kind)}
                  />
                  <span class="picker-text">
                    <span class="picker-name">{p.label}</span>
                    <span class="picker-desc" id={`provider-desc-${p.kind}`}>
                      <InlineCode text={p.description} />
                      <span class="picker-flow">{p.flow}</span>
                    </span>
                  </span>
                </label>
              ))}
            </div>
          </fieldset>
        )}

        {!schema && (
          <p class="form-hint" data-testid="pick-provider-hint">
            Choose a provider to see the fields it needs.
          </p>
        )}

        {schema && (
          <>
            <div class="form-grid">
              <div class="field">
                <label for="cred-name" class="field-label">
                  Name <span class="required-mark" aria-hidden="true">*</span>
                </label>
                <input
                  id="cred-name"
                  name="name"
                  class="input"
                  type="text"
                  value={name}
                  required
                  maxLength={NAME_MAX}
                  autoComplete="off"
                  spellcheck={false}
                  placeholder="e.g. main-shop"
                  aria-describedby="cred-name-help"
                  aria-invalid={nameProblemShown ? true : undefined}
                  data-testid="name-input"
                  onInput={(e) => {
                    setName(e.currentTarget.value);
                    if (serverField?.field === 'name') setServerField(null);
                  }}
                  onBlur={() => touch(NAME_KEY)}
                />
                <p id="cred-name-help" class="field-help">
                  {nameProblemShown ? (
                    <span class="field-missing" data-testid="problem-name">
                      {nameProblemShown}
                    </span>
                  ) : (
                    'How you refer to it here and in the CLI: letters, digits, dot, underscore, dash.'
                  )}
                </p>
              </div>

              <div class="field">
                <label for="cred-environment" class="field-label">
                  Environment
                </label>
                <select
                  id="cred-environment"
                  name="environment"
                  class="input select"
                  value={environment}
                  disabled={schema.environments.length === 1}
                  aria-describedby="cred-environment-help"
                  data-testid="environment-select"
                  onChange={(e) => setEnvironment(e.currentTarget.value as Environment)}
                >
                  {schema.environments.map((env) => (
                    <option key={env} value={env}>
                      {environmentLabel(env)}
                      {schema.kind === 'paysera-pos' && env === 'sandbox' ? ' (demo)' : ''}
                    </option>
                  ))}
                </select>
                <p id="cred-environment-help" class="field-help">
                  {schema.environments.length === 1
                    ? `${schema.label} documents only this environment.`
                    : 'Which of the provider’s environments these credentials belong to; it sets the default URLs.'}
                </p>
              </div>

              {primary.map(renderField)}

              {editing && (
                <div class="field">
                  <label for="cred-period" class="field-label">
                    Rotation period (days)
                  </label>
                  <input
                    id="cred-period"
                    class="input"
                    type="number"
                    min={1}
                    max={3650}
                    value={period}
                    aria-describedby="cred-period-help"
                    aria-invalid={shown(PERIOD_KEY) ? true : undefined}
                    data-testid="period-input"
                    onInput={(e) => setPeriod(e.currentTarget.value)}
                    onBlur={() => touch(PERIOD_KEY)}
                  />
                  <p id="cred-period-help" class="field-help">
                    {shown(PERIOD_KEY) ? (
                      <span class="field-missing" data-testid="problem-period">
                        {shown(PERIOD_KEY)}
                      </span>
                    ) : (
                      'How often to replace its secret. The providers recommend 90 days.'
                    )}
                  </p>
                </div>
              )}
            </div>

            {editing && secretNames.length > 0 && (
              <p class="form-hint">
                {secretNames.join(' and ')} {secretNames.length === 1 ? 'stays' : 'stay'} in the OS keyring
                unchanged. To replace {secretNames.length === 1 ? 'it' : 'them'}, close this form and use Rotate.
              </p>
            )}

            {optional.length > 0 && (
              <details
                class="optional-fields"
                data-testid="optional-fields"
                open={optionalOpen}
                onToggle={(e) => setOptionalOpen((e.currentTarget as HTMLDetailsElement).open)}
              >
                <summary data-testid="optional-summary">
                  <span class="optional-title">Optional settings</span>
                  <span class="optional-list">{optional.map((f) => f.label).join(' · ')}</span>
                </summary>
                <div class="form-grid">{optional.map(renderField)}</div>
              </details>
            )}
          </>
        )}

        {confirmShown && (
          <div
            class="confirm-secrets"
            role="group"
            aria-labelledby="confirm-secrets-title"
            data-testid="confirm-secrets"
          >
            <p class="field-label" id="confirm-secrets-title">
              Confirm the new address
            </p>
            <p class="form-hint" id="confirm-secrets-help">
              You changed where Tillkey sends this credential’s{' '}
              {confirmFields.length === 1 ? 'secret' : 'secrets'}
              {moved.length > 0 ? ` (${moved.map((f) => f.label).join(', ')})` : ''}. Tillkey sends{' '}
              {confirmFields.length === 1 ? 'it' : 'them'} there on the next test or copy, so type the current{' '}
              {confirmFields.map((f) => f.label).join(' and ')} again to confirm. If you did not make this change,
              press Cancel.
            </p>
            <div class="form-grid">
              {confirmFields.map((field) => {
                const id = `cred-confirm-${field.name}`;
                const label = `Current ${field.label} (to confirm the new address)`;
                const problem =
                  secretRequired && (confirm[field.name] ?? '') === ''
                    ? `Type the current ${field.label}: it was missing or did not match.`
                    : null;
                return (
                  <div class="field field-wide" key={field.name}>
                    <label for={id} class="field-label">
                      {label}
                      <span class="required-mark" aria-hidden="true">
                        {' '}
                        *
                      </span>
                      <span class="secret-badge">secret</span>
                    </label>
                    <SecretInput
                      id={id}
                      name={field.name}
                      label={label}
                      value={confirm[field.name] ?? ''}
                      required
                      maxLength={field.maxLen ?? undefined}
                      describedBy={`${id}-help confirm-secrets-help`}
                      invalid={problem !== null}
                      testPrefix="confirm"
                      onInput={(v) => setConfirm((c) => ({ ...c, [field.name]: v }))}
                    />
                    <p id={`${id}-help`} class="field-help">
                      {problem ? (
                        <span class="field-missing" data-testid={`problem-confirm-${field.name}`}>
                          {problem}
                        </span>
                      ) : (
                        'Only compared with the one in the keyring; it is not stored again or shown.'
                      )}
                    </p>
                  </div>
                );
              })}
            </div>
          </div>
        )}

        {error && (
          <div ref={errorRef}>
            <ErrorNotice
              error={error}
              testId="form-error"
              title={editing ? 'Could not save the changes' : 'Could not add the credential'}
              onDismiss={() => setError(null)}
            />
          </div>
        )}

        <div class="form-actions">
          <button
            type="button"
            class="btn btn-secondary"
            disabled={submitting !== null}
            data-testid="add-cancel"
            onClick={onCancel}
          >
            Cancel
          </button>
          <button
            type="button"
            class="btn btn-secondary"
            disabled={submitting !== null || !schema}
            data-testid="add-submit"
            onClick={() => void submit(false)}
          >
            {submitting === 'save' ? 'Saving…' : 'Save'}
          </button>
          <button
            type="submit"
            class="btn btn-primary"
            disabled={submitting !== null || !schema}
            data-testid="save-and-test"
          >
            {submitting === 'test' ? 'Saving…' : 'Save and test'}
          </button>
        </div>
      </form>
    </section>
  );
}

interface FieldProps {
  field: FieldSchema;
  environment: Environment | undefined;
  value: string;
  problem: string | null;
  /** Required by the schema, but optional now (a sibling field replaces it). */
  optional: boolean;
  onInput: (value: string) => void;
  onBlur: () => void;
}

/** One input generated from a `FieldSchema`, with its help text and inline problem. */
function SchemaField({ field, environment, value, problem, optional, onInput, onBlur }: FieldProps) {
  const id = `cred-field-${field.name}`;
  const helpId = `${id}-help`;
  const fallback = environment ? field.defaults[environment] : undefined;
  const required = mustFill(field, environment) && !optional;
  const maxLength = field.maxLen ?? undefined;
  const invalid = problem ? true : undefined;

  const help = (
    <p id={helpId} class="field-help">
      {problem ? (
        <span class="field-missing" data-testid={`problem-${field.name}`}>
          {problem}{' '}
        </span>
      ) : null}
      <InlineCode text={field.help} />
      {fallback !== undefined && field.input !== 'bool' ? (
        <span class="field-default"> Leave empty for the default.</span>
      ) : null}
    </p>
  );

  if (field.input === 'bool') {
    return (
      <div class="field field-wide field-checkbox">
        <label class="checkbox">
          <input
            id={id}
            name={field.name}
            type="checkbox"
            checked={value === 'true'}
            aria-describedby={helpId}
            data-testid={`field-${field.name}`}
            onChange={(e) => onInput(e.currentTarget.checked ? 'true' : 'false')}
          />
          <span class="field-label">{field.label}</span>
        </label>
        {help}
      </div>
    );
  }

  const label = (
    <label for={id} class="field-label">
      {field.label}
      {required && (
        <span class="required-mark" aria-hidden="true">
          {' '}
          *
        </span>
      )}
      {field.secret && <span class="secret-badge">secret</span>}
    </label>
  );

  if (field.input === 'choice') {
    return (
      <div class="field">
        {label}
        <select
          id={id}
          name={field.name}
          class="input select"
          value={value}
          required={required}
          aria-describedby={helpId}
          aria-invalid={invalid}
          data-testid={`field-${field.name}`}
          onChange={(e) => onInput(e.currentTarget.value)}
          onBlur={onBlur}
        >
          {!required && <option value="">{fallback ? `Default (${fallback})` : 'Not set'}</option>}
          {required && value === '' && (
            <option value="" disabled>
              Choose…
            </option>
          )}
          {field.choices.map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
        {help}
      </div>
    );
  }

  if (field.secret) {
    return (
      <div class="field field-wide">
        {label}
        <SecretInput
          id={id}
          name={field.name}
          label={field.label}
          value={value}
          required={required}
          maxLength={maxLength}
          describedBy={helpId}
          invalid={!!problem}
          onInput={onInput}
          onBlur={onBlur}
        />
        {help}
      </div>
    );
  }

  return (
    <div class={field.input === 'url' ? 'field field-wide' : 'field'}>
      {label}
      <input
        id={id}
        name={field.name}
        class="input"
        type={field.input === 'url' ? 'url' : 'text'}
        inputMode={field.input === 'url' ? 'url' : undefined}
        value={value}
        required={required}
        maxLength={maxLength}
        placeholder={fallback}
        autoComplete="off"
        spellcheck={false}
        aria-describedby={helpId}
        aria-invalid={invalid}
        data-testid={`field-${field.name}`}
        onInput={(e) => onInput(e.currentTarget.value)}
        onBlur={onBlur}
      />
      {help}
    </div>
  );
}
