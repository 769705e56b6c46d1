/** The banner every page shows while a connection needs re-authorization (its count from the Connections list, one row fetched). */
import { useEffect, useState } from "react";
import { client, ok } from "../api";
import { connectionsHref } from "../lib/connections";

export function ReauthBanner(props: { page: string }) {
  const [count, setCount] = useState(0);
  useEffect(() => {
    ok(client.GET("/api/connections", { params: { query: { state: "needs_reauth", limit: "1" } } }))
      .then((r) => setCount(r.total))
      .catch(() => setCount(0));
  }, [props.page]);
  if (count === 0) return null;
  return (
    <div className="banner" role="status">
      {count === 1 ? "1 connection needs" : `${count} connections need`} re-authorization. <a href={connectionsHref({ states: ["needs_reauth"] })}>See them</a> · <a href="#/events?type=needs_reauth">events</a>
    </div>
  );
}
