import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { addCredential, toApiError } from '../api';
import type { CredentialSummary } from '../bindings/CredentialSummary';
import type { Environment } from '../bindings/Environment';
import type { FieldSchema } from '../bindings/FieldSchema';
import type { IpcError } from '../bindings/IpcError';
import type { NewCredential } from '../bindings/NewCredential';
import type { ProviderSchema } from '../bindings/ProviderSchema';
import { environmentLabel } from '../format';
import { ErrorNotice } from './ErrorNotice';
import { InlineCode } from './InlineCode';
import { SecretInput } from './SecretInput';

interface Props {
  providers: ProviderSchema[];
  onAdded: (credential: CredentialSummary) => void;
  onCancel: () => void;
}

type Values = Record<string, string>;

const NAME_MAX = 64;
/** Key of the credential's own name in the set of missing inputs (not a schema field). */
const NAME_KEY = '$name';

function defaultFor(field: FieldSchema, env: Environment): string | undefined {
  return field.defaults[env];
}

function initialValues(schema: ProviderSchema | undefined, env: Environment | undefined): Values {
  const values: Values = {};
  for (const field of schema?.fields ?? []) {
    // A checkbox always has a value; start it at the environment default.
    values[field.name] =
      field.input === 'bool' ? (env && defaultFor(field, env) === 'true' ? 'true' : 'false') : '';
  }
  return values;
}

/** Whether the merchant must type a value (required and no default to fall back on). */
function mustFill(field: FieldSchema, env: Environment | undefined): boolean {
  if (!field.required || field.input === 'bool') return false;
  return env === undefined || defaultFor(field, env) === undefined;
}

/**
 * The "Add credential" form, generated from the provider's schema: one input per field,
 * secret fields as password inputs, environments limited to the ones the kind offers.
 */
export function AddCredentialForm({ providers, onAdded, onCancel }: Props) {
  const [kind, setKind] = useState(() => providers[0]?.kind ?? '');
  const schema = useMemo(() => providers.find((p) => p.kind === kind), [providers, kind]);
  const [environment, setEnvironment] = useState<Environment | undefined>(
    () => providers[0]?.environments[0],
  );
  const [name, setName] = useState('');
  const [values, setValues] = useState<Values>(() => initialValues(providers[0], providers[0]?.environments[0]));
  const [missing, setMissing] = useState<ReadonlySet<string>>(new Set());
  const [error, setError] = useState<IpcError | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const providerRef = useRef<HTMLSelectElement>(null);
  const errorRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    providerRef.current?.focus();
  }, []);

  useEffect(() => {
    if (error) errorRef.current?.scrollIntoView({ block: 'nearest' });
  }, [error]);

  function changeKind(next: string) {
    const nextSchema = providers.find((p) => p.kind === next);
    const nextEnv = nextSchema?.environments[0];
    setKind(next);
    setEnvironment(nextEnv);
    setValues(initialValues(nextSchema, nextEnv));
    setMissing(new Set());
    setError(null);
  }

  function clearMissing(field: string) {
    if (!missing.has(field)) return;
    const next = new Set(missing);
    next.delete(field);
    setMissing(next);
  }

  function setValue(field: string, value: string) {
    setValues((v) => ({ ...v, [field]: value }));
    clearMissing(field);
  }

  async function submit(e: Event) {
    e.preventDefault();
    if (!schema || submitting) return;

    const blank = new Set<string>();
    if (name.trim() === '') blank.add(NAME_KEY);
    for (const field of schema.fields) {
      if (mustFill(field, environment) && (values[field.name] ?? '').trim() === '') {
        blank.add(field.name);
      }
    }
    setMissing(blank);
    if (blank.size > 0) {
      setError(null);
      const first = blank.has(NAME_KEY) ? 'cred-name' : `cred-field-${[...blank][0]}`;
      document.getElementById(first)?.focus();
      return;
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

    setSubmitting(true);
    setError(null);
    try {
      const added = await addCredential(request);
      onAdded(added);
    } catch (err) {
      setError(toApiError(err).info);
    } finally {
      setSubmitting(false);
    }
  }

  // Required and secret fields first; optional ones (overrides, extras) fold away.
  const primary = schema?.fields.filter((f) => f.required || f.secret) ?? [];
  const optional = schema?.fields.filter((f) => !(f.required || f.secret)) ?? [];

  function renderField(field: FieldSchema) {
    return (
      <SchemaField
        key={`${kind}:${field.name}`}
        field={field}
        environment={environment}
        value={values[field.name] ?? ''}
        missing={missing.has(field.name)}
        onInput={(v) => setValue(field.name, v)}
      />
    );
  }

  function onKeyDown(e: KeyboardEvent) {
    if (e.key === 'Escape' && !submitting) {
      e.preventDefault();
      onCancel();
    }
  }

  return (
    <section class="card form-card" aria-labelledby="add-form-title" onKeyDown={onKeyDown}>
      <header class="card-header">
        <div>
          <h2 id="add-form-title" class="card-title">
            Add credential
          </h2>
          <p class="card-subtitle">
            Secrets go straight to the OS keyring; Tillkey never shows them again here.
          </p>
        </div>
      </header>

      <form class="form" noValidate onSubmit={submit} data-testid="add-form" aria-busy={submitting}>
        <div class="form-grid">
          <div class="field field-wide">
            <label for="cred-provider" class="field-label">
              Provider <span class="required-mark" aria-hidden="true">*</span>
            </label>
            <select
              ref={providerRef}
              id="cred-provider"
              name="provider"
              class="input select"
              value={kind}
              required
              aria-describedby="cred-provider-help"
              data-testid="provider-select"
              onChange={(e) => changeKind(e.currentTarget.value)}
            >
              {providers.map((p) => (
                <option key={p.kind} value={p.kind}>
                  {p.label}
                </option>
              ))}
            </select>
            <p id="cred-provider-help" class="field-help">
              {schema ? (
                <>
                  <InlineCode text={schema.description} />{' '}
                  <span class="field-flow">Auth: {schema.flow}.</span>
                </>
              ) : null}
            </p>
          </div>

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
              aria-invalid={missing.has(NAME_KEY) || undefined}
              data-testid="name-input"
              onInput={(e) => {
                setName(e.currentTarget.value);
                clearMissing(NAME_KEY);
              }}
            />
            <p id="cred-name-help" class="field-help">
              {missing.has(NAME_KEY) ? (
                <span class="field-missing">Enter a name.</span>
              ) : (
                'Unique in this vault: letters, digits, dot, underscore, dash.'
              )}
            </p>
          </div>

          {schema && schema.environments.length > 0 && (
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
                  </option>
                ))}
              </select>
              <p id="cred-environment-help" class="field-help">
                {schema.environments.length === 1
                  ? `${schema.label} documents only this environment.`
                  : 'Which of the provider’s environments these credentials belong to.'}
              </p>
            </div>
          )}

          {primary.map(renderField)}
        </div>

        {optional.length > 0 && (
          <details class="optional-fields" data-testid="optional-fields">
            <summary>
              <span class="optional-title">Optional settings</span>
              <span class="optional-list">{optional.map((f) => f.label).join(' · ')}</span>
            </summary>
            <div class="form-grid">{optional.map(renderField)}</div>
          </details>
        )}

        {error && (
          <div ref={errorRef}>
            <ErrorNotice
              error={error}
              testId="form-error"
              title="Could not add the credential"
              onDismiss={() => setError(null)}
            />
          </div>
        )}

        <div class="form-actions">
          <button
            type="button"
            class="btn btn-secondary"
            disabled={submitting}
            data-testid="add-cancel"
            onClick={onCancel}
          >
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={submitting} data-testid="add-submit">
            {submitting ? 'Saving…' : 'Save credential'}
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
  missing: boolean;
  onInput: (value: string) => void;
}

/** One input generated from a `FieldSchema`. */
function SchemaField({ field, environment, value, missing, onInput }: FieldProps) {
  const id = `cred-field-${field.name}`;
  const helpId = `${id}-help`;
  const fallback = environment ? defaultFor(field, environment) : undefined;
  const required = mustFill(field, environment);
  const maxLength = field.maxLen ?? undefined;

  const help = (
    <p id={helpId} class="field-help">
      {missing ? <span class="field-missing">{field.label} is required. </span> : null}
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
          aria-invalid={missing || undefined}
          data-testid={`field-${field.name}`}
          onChange={(e) => onInput(e.currentTarget.value)}
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
          invalid={missing}
          onInput={onInput}
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
        aria-invalid={missing || undefined}
        data-testid={`field-${field.name}`}
        onInput={(e) => onInput(e.currentTarget.value)}
      />
      {help}
    </div>
  );
}
