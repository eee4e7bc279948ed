import { useEffect, useRef, useState } from 'preact/hooks';

/** Rows rendered at first, and added each time the end of the list comes near. */
export const PAGE_ROWS = 40;

/**
 * How many of `total` rows to render: a page at first, then another page whenever the
 * sentinel after the last rendered row scrolls within reach (or "Show more" is pressed).
 * A vault of hundreds of credentials paints its first screen fast and stays light while it
 * sits open; every row is still reachable by scrolling, by keyboard (the button), and by
 * the search box, which filters the whole vault. `mustShow` rows are always rendered (a
 * just-added credential that is highlighted and scrolled to).
 */
export function useIncrementalRows(total: number, mustShow: number) {
  const [count, setCount] = useState(PAGE_ROWS);
  const sentinel = useRef<HTMLLIElement>(null);
  const shown = Math.min(total, Math.max(count, mustShow));
  useEffect(() => {
    const el = sentinel.current;
    if (!el || shown >= total || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) setCount((n) => Math.max(n, shown) + PAGE_ROWS);
      },
      { rootMargin: '800px 0px' },
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, [shown, total]);
  const more = () => setCount((n) => Math.max(n, shown) + PAGE_ROWS);
  return { shown, sentinel, more };
}
