import { useEffect, useState } from 'preact/hooks';
import { importFile, toApiError } from '../../api';
import type { ImportLocation } from '../../bindings/ImportLocation';
import type { ImportReport } from '../../bindings/ImportReport';
import type { IpcError } from '../../bindings/IpcError';
import { ErrorNotice } from '../ErrorNotice';
import { Modal } from '../Modal';
import { SecretInput } from '../SecretInput';

interface Props {
  /** A file dropped on the window, checked at once. */
  initialPath: string | null;
  /** Credentials were imported: re-read the vault. */
  onImported: (report: ImportReport) => void;
  onClose: () => void;
}

const FORMATS: Record<string, string> = {
  dotenv: '.env file',
  postmanEnvironment: 'Postman environment',
  postmanCollection: 'Postman collection',
  brunoEnvironment: 'Bruno environment',
  insomnia: 'Insomnia export',
  backup: 'Tillkey backup',
};

function where(l: ImportLocation): string {
  return l.line === null ? l.at : `line ${l.line} (${l.at})`;
}

/**
 * Import from a file: the path (or a file dropped on the window) is read by Rust and
 * checked with a dry run first; nothing is stored until "Import". The file's secrets never
 * reach this window: only names, providers, reasons and line numbers do.
 */
export function ImportDialog({ initialPath, onImported, onClose }: Props) {
  const [path, setPath] = useState(initialPath ?? '');
  const [passphrase, setPassphrase] = useState('');
  const [needsPassphrase, setNeedsPassphrase] = useState(false);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [error, setError] = useState<IpcError | null>(null);
  const [busy, setBusy] = useState(false);

  async function run(dryRun: boolean, file = path) {
    if (!file.trim() || busy) return;
    setBusy(true);
    setError(null);
    try {
      const r = await importFile(file, dryRun, needsPassphrase ? passphrase : null);
      setReport(r);
      if (!dryRun) {
        setPassphrase('');
        onImported(r);
      }
    } catch (err) {
      const e = toApiError(err).info;
      if (e.code === 'backup_passphrase_required') setNeedsPassphrase(true);
      setReport(null);
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  useEffect(() => {
    if (initialPath) void run(true, initialPath);
    // Only the dropped file, once.
  }, []);

  const done = report !== null && !report.dryRun;
  const ready = report !== null && report.dryRun && report.imported.length > 0;

  return (
    <Modal title="Import credentials" titleId="import-title" testId="import-dialog" onClose={onClose} busy={busy} wide>
      <form
        class="wizard-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void run(true);
        }}
      >
        <p>
          Drop a file on the window, or give its path: a <code>.env</code> file, a Postman environment or collection,
          a Bruno environment (its <code>.env</code> beside it is read too), an Insomnia v4 export, or a Tillkey
          backup. It is checked first; nothing is stored until you choose Import. Existing names are skipped,
          never replaced.
        </p>
        <div class="field">
          <label class="field-label" for="import-path">
            File
          </label>
          <input
            id="import-path"
            class="input"
            value={path}
            spellcheck={false}
            autoComplete="off"
            placeholder="/home/me/shop/.env"
            data-testid="import-path"
            onInput={(e) => {
              setPath(e.currentTarget.value);
              setReport(null);
            }}
          />
        </div>
        {needsPassphrase && (
          <div class="field">
            <label class="field-label" for="import-passphrase">
              Backup passphrase
            </label>
            <SecretInput
              id="import-passphrase"
              name="passphrase"
              label="backup passphrase"
              value={passphrase}
              required
              maxLength={1024}
              invalid={error?.code === 'wrong_passphrase'}
              testPrefix="import"
              onInput={setPassphrase}
            />
          </div>
        )}
        {error && <ErrorNotice error={error} testId="import-error" title="Nothing was imported" />}
        {report && <ImportReportView report={report} />}
        <div class="form-actions">
          <button type="button" class="btn btn-secondary" onClick={onClose} disabled={busy} data-testid="import-close">
            {done ? 'Close' : 'Cancel'}
          </button>
          {!done && (
            <button type="submit" class="btn btn-secondary" disabled={busy || !path.trim()} data-testid="import-check">
              {busy && !ready ? 'Checking…' : 'Check'}
            </button>
          )}
          {ready && (
            <button type="button" class="btn btn-primary" disabled={busy} data-testid="import-confirm" onClick={() => void run(false)}>
              {busy ? 'Importing…' : `Import ${report.imported.length === 1 ? '1 credential' : `${report.imported.length} credentials`}`}
            </button>
          )}
        </div>
      </form>
    </Modal>
  );
}

/** What an import did (or, checked first, would do). */
function ImportReportView({ report }: { report: ImportReport }) {
  const verb = report.dryRun ? 'Would import' : 'Imported';
  return (
    <div class="import-report" data-testid="import-report" data-dry-run={report.dryRun ? 'true' : 'false'}>
      <p class="import-summary" data-testid="import-summary">
        {verb} {report.imported.length} from this {FORMATS[report.format] ?? report.format}
        {report.skipped.length > 0 ? `; ${report.skipped.length} skipped` : ''}.
      </p>
      {report.imported.length > 0 && (
        <ul class="import-list" data-testid="import-imported">
          {report.imported.map((c) => (
            <li key={c.name} data-name={c.name}>
              <strong>{c.name}</strong> · {c.provider} · {c.environment} · {c.secretFields.length} secret
              {c.secretFields.length === 1 ? '' : 's'}
            </li>
          ))}
        </ul>
      )}
      {report.skipped.length > 0 && (
        <>
          <p class="field-label">Skipped</p>
          <ul class="import-list" data-testid="import-skipped">
            {report.skipped.map((s) => (
              <li key={`${s.name}-${s.code}`}>
                <strong>{s.name}</strong> ({s.provider}): {s.reason} <code>{s.code}</code>
                {s.sources[0] && <span class="import-where"> — {where(s.sources[0])}</span>}
              </li>
            ))}
          </ul>
        </>
      )}
      {report.ignored.length > 0 && (
        <details>
          <summary>Left alone: {report.ignored.length} variable{report.ignored.length === 1 ? '' : 's'}</summary>
          <ul class="import-list">
            {report.ignored.map((i) => (
              <li key={`${i.name}-${where(i.at)}`}>
                <code>{i.name}</code> at {where(i.at)}: {i.reason}
              </li>
            ))}
          </ul>
          <p class="field-help">Variables with other names can be mapped with `tillkey import --map`.</p>
        </details>
      )}
      {report.secretLocations.length > 0 && (
        <div class="import-secrets" data-testid="import-secret-locations">
          <p>
            The {report.dryRun ? 'found' : 'imported'} secrets are still in the file at:{' '}
            {report.secretLocations.map(where).join('; ')}. Delete them there once you have checked the import; Tillkey
            never edits the file.
          </p>
        </div>
      )}
    </div>
  );
}
