interface Props {
  /** Leaving is under way. */
  leaving: boolean;
  onLeave: () => void;
}

/** Says the demo vault is active (simulated providers) and offers the way back. */
export function DemoBanner({ leaving, onLeave }: Props) {
  return (
    <div class="demo-banner" role="note" data-testid="demo-banner">
      <p>
        <strong>Demo vault.</strong> These credentials talk to provider simulators running inside Tillkey on
        this computer. Nothing here is real, and your own vault is not touched.
      </p>
      <button
        type="button"
        class="btn btn-secondary btn-small"
        disabled={leaving}
        data-testid="leave-demo"
        onClick={onLeave}
      >
        {leaving ? 'Leaving…' : 'Leave demo'}
      </button>
    </div>
  );
}
