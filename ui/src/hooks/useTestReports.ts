// One store of this session's connectivity tests: the latest report of each credential,
// whether its row shows it open, which tests run now, and the last "Test all" summary.
//
// The vault records each test as the credential's last test too, except where it may not
// (a read-only team vault): `withLatest` then still shows this session's result in the row.

import { useCallback, useMemo, useState } from 'preact/hooks';
import { testAll, testCredential } from '../api';
import type { CredentialSummary } from '../bindings/CredentialSummary';
import type { TestReport } from '../bindings/TestReport';

/** "Test all": running, or its last outcome. */
export type TestAllState = null | 'running' | { passed: number; failed: number };

interface Result {
  report: TestReport;
  /** Whether the row shows the report (a failed or single test) or only a tick. */
  open: boolean;
}

export function useTestReports() {
  const [results, setResults] = useState<Record<string, Result>>({});
  const [testing, setTesting] = useState<ReadonlySet<string>>(new Set());
  const [testAllState, setTestAllState] = useState<TestAllState>(null);

  /** Tests one credential; its report opens in its row. */
  const run = useCallback(async (name: string): Promise<TestReport> => {
    setTesting((t) => new Set(t).add(name));
    try {
      const report = await testCredential(name);
      setResults((r) => ({ ...r, [name]: { report, open: true } }));
      return report;
    } finally {
      setTesting((t) => {
        const next = new Set(t);
        next.delete(name);
        return next;
      });
    }
  }, []);

  /** Tests every credential (`names` show as testing meanwhile); the failed ones open. */
  const runAll = useCallback(async (names: string[]): Promise<TestReport[]> => {
    setTestAllState('running');
    setTesting(new Set(names));
    try {
      const all = await testAll();
      const passed = all.filter((r) => r.ok).length;
      setTestAllState({ passed, failed: all.length - passed });
      // Open the failed ones; the passed ones show a tick in their row.
      setResults((r) => {
        const next = { ...r };
        for (const report of all) next[report.credential] = { report, open: !report.ok };
        return next;
      });
      return all;
    } catch (err) {
      setTestAllState(null);
      throw err;
    } finally {
      setTesting(new Set());
    }
  }, []);

  /** Closes a row's report (its result still counts as the row's last test). */
  const hide = useCallback((name: string) => {
    setResults((r) => {
      const result = r[name];
      return result?.open ? { ...r, [name]: { ...result, open: false } } : r;
    });
  }, []);

  /** Drops a credential's result (removed or renamed). */
  const forget = useCallback((name: string) => {
    setResults(({ [name]: _gone, ...rest }) => rest);
  }, []);

  /** Starts clean (another vault). */
  const reset = useCallback(() => {
    setResults({});
    setTestAllState(null);
  }, []);

  /** The reports rows show open, by credential name. */
  const open = useMemo(() => {
    const shown: Record<string, TestReport> = {};
    for (const [name, result] of Object.entries(results)) if (result.open) shown[name] = result.report;
    return shown;
  }, [results]);

  /** `stored` with each row's last test replaced by this session's, where that is newer. */
  const withLatest = useCallback(
    (stored: CredentialSummary[]): CredentialSummary[] => {
      if (Object.keys(results).length === 0) return stored;
      return stored.map((c) => {
        const t = results[c.name]?.report;
        const newer = t && (!c.lastTest || Date.parse(t.testedAt) > Date.parse(c.lastTest.testedAt));
        return newer ? { ...c, lastTest: t } : c;
      });
    },
    [results],
  );

  return { open, testing, testAllState, run, runAll, hide, forget, reset, withLatest };
}

export type TestReports = ReturnType<typeof useTestReports>;
