/** Where the rotation wizard is. */
export type Step = 'enter' | 'testing' | 'failed' | 'retire' | 'done';

const STEPS: { id: string; label: string }[] = [
  { id: 'enter', label: 'New secret' },
  { id: 'test', label: 'Test it' },
  { id: 'swap', label: 'Swap it in' },
  { id: 'retire', label: 'Retire the old' },
];

function stepIndex(step: Step): number {
  switch (step) {
    case 'enter':
      return 0;
    case 'testing':
    case 'failed':
      return 1;
    case 'retire':
      return 3;
    case 'done':
      return 4;
  }
}

/**
 * The wizard's four steps, the current one marked and the done ones ticked. With `newSet`
 * (the provider issues a client ID with the secret) the first step is "New set".
 */
export function Stepper({ step, newSet = false }: { step: Step; newSet?: boolean }) {
  const current = stepIndex(step);
  const steps = newSet ? STEPS.map((s) => (s.id === 'enter' ? { ...s, label: 'New set' } : s)) : STEPS;
  return (
    <ol class="stepper" aria-label="Rotation steps">
      {steps.map((s, i) => (
        <li
          key={s.id}
          class={i < current ? 'step step-done' : i === current ? 'step step-current' : 'step'}
          aria-current={i === current ? 'step' : undefined}
          data-testid={`wizard-step-${s.id}`}
        >
          <span class="step-number" aria-hidden="true">
            {i < current ? '✓' : i + 1}
          </span>
          {s.label}
        </li>
      ))}
    </ol>
  );
}
