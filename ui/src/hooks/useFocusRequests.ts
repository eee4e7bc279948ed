// "Open the window on these credentials": a tray item or a reminder's action asked the app,
// which keeps the request until the window takes it (at start, and on the DOM event
// `tillkey-focus` the app dispatches when the window is already open).

import { useEffect, useRef } from 'preact/hooks';
import { takeFocus } from '../api';
import type { FocusRequest } from '../bindings/FocusRequest';

/**
 * Calls `onRequest` with each request, once `ready` (the window knows its vault), and
 * whenever the app signals one.
 */
export function useFocusRequests(ready: boolean, onRequest: (request: FocusRequest) => void) {
  const latest = useRef(onRequest);
  latest.current = onRequest;

  useEffect(() => {
    if (!ready) return;
    const take = () => {
      void takeFocus()
        .then((request) => {
          if (request && request.names.length > 0) latest.current(request);
        })
        .catch(() => undefined);
    };
    take();
    window.addEventListener('tillkey-focus', take);
    return () => window.removeEventListener('tillkey-focus', take);
  }, [ready]);
}
