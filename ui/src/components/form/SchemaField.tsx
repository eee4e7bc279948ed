import type { Environment } from '../../bindings/Environment';
import type { FieldSchema } from '../../bindings/FieldSchema';
import { inputId } from '../../form';
import { InlineCode } from '../InlineCode';
import { SecretInput } from '../SecretInput';

interface FieldProps {
  field: FieldSchema;
  environment: Environment | undefined;
  value: string;
  problem: string | null;
  /** Whether a value must be typed now (see `mustFill`: defaults, `requiredUnless`). */
  required: boolean;
  onInput: (value: string) => void;
  onBlur: () => void;
}

/** One input generated from a `FieldSchema`, with its help text and inline problem. */
export function SchemaField({ field, environment, value, problem, required, onInput, onBlur }: FieldProps) {
  const id = inputId(field.name);
  const helpId = `${id}-help`;
  const fallback = environment ? field.defaults[environment] : undefined;
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
