/** The banner every page shows while a connection needs re-authorization. */
import { useEffect, useState } from "react";
import { client, type Connection, okAs } from "../api";

export function ReauthBanner(props: { hash: string }) {
  const [count, setCount] = useState(0);
  useEffect(() => {
    okAs<{ connections: Connection[] }>(client.GET("/api/oauth/status"))
      .then((r) => setCount(r.connections.filter((c) => c.state === "needs_reauth").length))
      .catch(() => setCount(0));
  }, [props.hash]);
  if (count === 0) return null;
  return (
    <div className="banner" role="status">
      {count === 1 ? "1 connection needs" : `${count} connections need`} re-authorization. <a href="#/events?type=needs_reauth">See events</a>
    </div>
  );
}
