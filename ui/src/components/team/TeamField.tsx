import type { ComponentChildren } from 'preact';

interface Props {
  /** The connect options' field (`address`, `role_id`, …): input id, name and test id. */
  name: string;
  label: string;
  value: string;
  /** What to type, or why the field is wrong (`problem` wins). */
  help: ComponentChildren;
  /** The error from Rust is about this field. */
  problem?: string | null;
  required?: boolean;
  placeholder?: string;
  type?: 'text' | 'url' | 'number';
  min?: number;
  max?: number;
  onInput: (value: string) => void;
}

/** One text input of the connect dialog, with its label, help and problem. */
export function TeamField({ name, label, value, help, problem, required, placeholder, type = 'text', min, max, onInput }: Props) {
  const id = `team-${name}`;
  return (
    <div class="field">
      <label for={id} class="field-label">
        {label}
        {required && (
          <span class="required-mark" aria-hidden="true">
            *
          </span>
        )}
      </label>
      <input
        id={id}
        name={name}
        class="input"
        type={type}
        min={min}
        max={max}
        value={value}
        required={required}
        placeholder={placeholder}
        autoComplete="off"
        autoCapitalize="off"
        spellcheck={false}
        aria-describedby={`${id}-help`}
        aria-invalid={problem ? true : undefined}
        data-testid={id}
        onInput={(e) => onInput(e.currentTarget.value)}
      />
      <p id={`${id}-help`} class="field-help">
        {problem ? (
          <span class="field-missing" data-testid={`team-problem-${name}`}>
            {problem}
          </span>
        ) : (
          help
        )}
      </p>
    </div>
  );
}
