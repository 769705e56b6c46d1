/** The banner every page shows while a connection needs re-authorization. */
import { useEffect, useState } from "react";
import { client, ok } from "../api";

export function ReauthBanner(props: { hash: string }) {
  const [count, setCount] = useState(0);
  useEffect(() => {
    // The count only: one row read, the total says how many.
    ok(client.GET("/api/connections", { params: { query: { state: "needs_reauth", limit: "1" } } }))
      .then((r) => setCount(r.total))
      .catch(() => setCount(0));
  }, [props.hash]);
  if (count === 0) return null;
  return (
    <div className="banner" role="status">
      {count === 1 ? "1 connection needs" : `${count} connections need`} re-authorization. <a href="#/events?type=needs_reauth">See events</a>
    </div>
  );
}
