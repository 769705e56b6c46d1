/** Paged tables: the hook that loads one page at a time by cursor, the Previous / Next bar, and a debounced value for search fields. */
import { useCallback, useEffect, useRef, useState } from "react";
import { type ApiError, toApiError } from "./api";
import { currentCursor, FIRST_PAGE, nextPage, type Paging, previousPage, rangeLabel } from "./lib/paging";

export interface Page<R> {
  rows: R[];
  next_cursor: string | null;
  total: number | null;
}

export interface Paged<R> {
  page: Page<R> | null;
  error: ApiError | null;
  /** A request is in flight (the rows shown may be the previous ones). */
  loading: boolean;
  paging: Paging;
  next: () => void;
  previous: () => void;
  /** Load the page shown again (after an action changed rows). */
  reload: () => Promise<void>;
}

/**
 * One page of rows at a time. `key` names the query (filters, search): when it changes, paging starts
 * again at the first page. Answers to superseded requests are dropped.
 */
export function usePaged<R>(key: string, load: (cursor: string | null) => Promise<Page<R>>): Paged<R> {
  const [paging, setPaging] = useState<Paging>(FIRST_PAGE);
  const [page, setPage] = useState<Page<R> | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const seq = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const [lastKey, setLastKey] = useState(key);
  if (key !== lastKey) {
    setLastKey(key);
    setPaging(FIRST_PAGE);
  }
  const cursor = currentCursor(key === lastKey ? paging : FIRST_PAGE);
  const fetchPage = useCallback(async () => {
    const mine = ++seq.current;
    setLoading(true);
    try {
      const p = await loadRef.current(cursor);
      if (mine !== seq.current) return;
      setPage(p);
      setError(null);
    } catch (e) {
      if (mine === seq.current) setError(toApiError(e));
    } finally {
      if (mine === seq.current) setLoading(false);
    }
  }, [key, cursor]);
  useEffect(() => {
    void fetchPage();
  }, [fetchPage]);
  return {
    page,
    error,
    loading,
    paging,
    next: () => {
      if (page?.next_cursor) setPaging((p) => nextPage(p, page.next_cursor as string));
    },
    previous: () => setPaging(previousPage),
    reload: fetchPage,
  };
}

/** Previous / "1–100 of 1,000" / Next. */
export function Pager(props: { paged: Paged<unknown>; label: string; pageSize?: number }) {
  const { page, paging, loading } = props.paged;
  if (!page) return null;
  return (
    <nav className="pager" aria-label={`${props.label} pages`}>
      <button type="button" onClick={props.paged.previous} disabled={paging.index === 0 || loading}>
        Previous
      </button>
      <span className="muted small" data-testid="pager-range">
        {rangeLabel(paging, page.rows.length, page.total, props.pageSize)}
      </span>
      <button type="button" onClick={props.paged.next} disabled={!page.next_cursor || loading}>
        Next
      </button>
    </nav>
  );
}

/** `value`, once it has not changed for `ms` (search fields ask the server after typing stops). */
export function useDebounced<T>(value: T, ms = 250): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = window.setTimeout(() => setSettled(value), ms);
    return () => window.clearTimeout(t);
  }, [value, ms]);
  return settled;
}
