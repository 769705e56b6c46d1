/** The "New integration" dialog. */
import { useState } from "react";
import { type ApiError, client, ok, toApiError } from "../api";
import { Dialog, FieldError, FormError } from "../ui";

export function CreateIntegration(props: { onClose: () => void; onCreated: (name: string) => void }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  return (
    <Dialog title="New integration" onClose={props.onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            await ok(client.POST("/api/integrations", { body: { name, ...(description ? { description } : {}) } }));
            props.onCreated(name);
          } catch (err) {
            setError(toApiError(err));
          }
        }}
      >
        <label htmlFor="new-int-name">Name</label>
        <input id="new-int-name" value={name} onChange={(e) => setName(e.target.value)} required />
        <FieldError error={error} fields={["name", "integration"]} />
        <label htmlFor="new-int-desc">Description</label>
        <input id="new-int-desc" value={description} onChange={(e) => setDescription(e.target.value)} />
        <FieldError error={error} fields={["description"]} />
        <FormError error={error} fields={["name", "integration", "description"]} />
        <div className="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="primary">
            Create
          </button>
        </div>
      </form>
    </Dialog>
  );
}
