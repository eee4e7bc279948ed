import { useState } from 'preact/hooks';

interface Props {
  id: string;
  name: string;
  label: string;
  value: string;
  required: boolean;
  maxLength?: number;
  describedBy?: string;
  invalid: boolean;
  onInput: (value: string) => void;
  onBlur?: () => void;
  /** data-testid prefix (default `field`). */
  testPrefix?: string;
}

/**
 * A password input with a show/hide toggle. The value lives only in the form state and
 * goes to Rust on submit; nothing ever fills it from the backend.
 */
export function SecretInput({
  id,
  name,
  label,
  value,
  required,
  maxLength,
  describedBy,
  invalid,
  onInput,
  onBlur,
  testPrefix = 'field',
}: Props) {
  const [visible, setVisible] = useState(false);
  return (
    <div class="secret-input">
      <input
        id={id}
        name={name}
        type={visible ? 'text' : 'password'}
        class="input"
        value={value}
        required={required}
        maxLength={maxLength}
        autoComplete="off"
        autoCapitalize="off"
        spellcheck={false}
        aria-describedby={describedBy}
        aria-invalid={invalid || undefined}
        data-testid={`${testPrefix}-${name}`}
        onInput={(e) => onInput(e.currentTarget.value)}
        onBlur={onBlur}
      />
      <button
        type="button"
        class="btn btn-ghost btn-small secret-toggle"
        aria-pressed={visible}
        aria-controls={id}
        aria-label={visible ? `Hide ${label}` : `Show ${label}`}
        data-testid={`${testPrefix}-toggle-${name}`}
        onClick={() => setVisible((v) => !v)}
      >
        {visible ? 'Hide' : 'Show'}
      </button>
    </div>
  );
}
