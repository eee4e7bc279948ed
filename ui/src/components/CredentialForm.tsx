import { useEffect, useRef } from 'preact/hooks';
import type { CredentialSummary } from '../bindings/CredentialSummary';
import type { FieldSchema } from '../bindings/FieldSchema';
import type { ProviderSchema } from '../bindings/ProviderSchema';
import { NAME_KEY, PERIOD_KEY, isPrimary } from '../form';
import { useCredentialForm, type FormMode } from '../hooks/useCredentialForm';
import { ErrorNotice } from './ErrorNotice';
import { EnvironmentField, NameField, PeriodField } from './form/BasicFields';
import { ConfirmSecrets } from './form/ConfirmSecrets';
import { ProviderPicker } from './form/ProviderPicker';
import { SchemaField } from './form/SchemaField';

export type { FormMode };

interface Props {
  mode: FormMode;
  providers: ProviderSchema[];
  /** Names already in the vault (for the inline uniqueness check). */
  takenNames: string[];
  /** Called after a successful save; `test` when the merchant chose "Save and test". */
  onSaved: (credential: CredentialSummary, test: boolean) => void;
  onCancel: () => void;
}

/**
 * Add or edit a credential. Adding starts with a provider picker (name, what it is, which
 * flow), then a form generated from the provider's schema with help text, masked secret
 * inputs with reveal, an environment selector and inline validation. Editing changes the
 * non-secret parts only; secrets change through rotation.
 */
export function CredentialForm({ mode, providers, takenNames, onSaved, onCancel }: Props) {
  const f = useCredentialForm(mode, providers, takenNames, onSaved);
  const { editing, schema, submitting } = f;
  const headingRef = useRef<HTMLHeadingElement>(null);
  const errorRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    headingRef.current?.focus();
  }, []);

  useEffect(() => {
    if (f.error) errorRef.current?.scrollIntoView({ block: 'nearest' });
  }, [f.error]);

  function onKeyDown(e: KeyboardEvent) {
    if (e.key === 'Escape' && !submitting) {
      e.preventDefault();
      onCancel();
    }
  }

  const primary = schema?.fields.filter((field) => isPrimary(field) && !(editing && field.secret)) ?? [];
  const optional = schema?.fields.filter((field) => !isPrimary(field)) ?? [];
  const secretNames = schema?.fields.filter((field) => field.secret).map((field) => field.label) ?? [];

  function renderField(field: FieldSchema) {
    return (
      <SchemaField
        key={`${f.kind}:${field.name}`}
        field={field}
        environment={f.environment}
        value={f.values[field.name] ?? ''}
        problem={f.shown(field.name)}
        required={f.required(field)}
        onInput={(v) => f.setValue(field.name, v)}
        onBlur={() => f.touch(field.name)}
      />
    );
  }

  return (
    <section class="card form-card" aria-labelledby="form-title" onKeyDown={onKeyDown}>
      <header class="card-header">
        <div>
          <h2 id="form-title" class="card-title" tabIndex={-1} ref={headingRef}>
            {editing ? `Edit “${editing.name}”` : 'Add credential'}
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
          void f.submit(true);
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
          <ProviderPicker providers={providers} kind={f.kind} onPick={f.pickKind} />
        )}

        {!schema && (
          <p class="form-hint" data-testid="pick-provider-hint">
            Choose a provider to see the fields it needs.
          </p>
        )}

        {schema && (
          <>
            <div class="form-grid">
              <NameField
                value={f.name}
                problem={f.shown(NAME_KEY)}
                onInput={f.setName}
                onBlur={() => f.touch(NAME_KEY)}
              />
              <EnvironmentField schema={schema} value={f.environment} onChange={f.setEnvironment} />
              {primary.map(renderField)}
              {editing && (
                <PeriodField
                  value={f.period}
                  problem={f.shown(PERIOD_KEY)}
                  onInput={f.setPeriod}
                  onBlur={() => f.touch(PERIOD_KEY)}
                />
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
                open={f.optionalOpen}
                onToggle={(e) => f.setOptionalOpen((e.currentTarget as HTMLDetailsElement).open)}
              >
                <summary data-testid="optional-summary">
                  <span class="optional-title">Optional settings</span>
                  <span class="optional-list">{optional.map((field) => field.label).join(' · ')}</span>
                </summary>
                <div class="form-grid">{optional.map(renderField)}</div>
              </details>
            )}
          </>
        )}

        {f.confirmShown && (
          <ConfirmSecrets
            fields={f.confirmFields}
            moved={f.moved}
            values={f.confirm}
            refused={f.secretRequired}
            onInput={(name, v) => f.setConfirm((c) => ({ ...c, [name]: v }))}
          />
        )}

        {f.error && (
          <div ref={errorRef}>
            <ErrorNotice
              error={f.error}
              testId="form-error"
              title={editing ? 'Could not save the changes' : 'Could not add the credential'}
              onDismiss={() => f.setError(null)}
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
            onClick={() => void f.submit(false)}
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
