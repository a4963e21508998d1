/** A dataset's saved views in the sidebar: save the current filter under a name, open one
 * (``?view=<id>``), rename or delete one. */
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ApiError, api, call, type Schemas } from "../api/client";
import { keys, useViews } from "../api/queries";
import { describeFilter, type Filter, filterBody, filterOf } from "../filters";
import { checkViewName } from "../splits";
import { Failure } from "./Failure";

type View = Schemas["ViewPublic"];

interface Props {
  datasetId: string;
  /** The open view's id, if one is. */
  openId: string | null;
  /** What "save" saves: the current filter (an open view's own filter when one is open). */
  current: Filter | null;
  onOpen: (viewId: string) => void;
  /** The open view was deleted: show its filter instead. */
  onDeleted: (view: View) => void;
}

/** A failed save as a person reads it; names are unique per dataset. */
function Problem({ error }: { error: unknown }) {
  if (error instanceof ApiError && error.status === 409)
    return (
      <p role="alert" className="error">
        Cannot save: a view with this name exists.
      </p>
    );
  if (typeof error === "string")
    return (
      <p role="alert" className="error">
        {error}
      </p>
    );
  return <Failure error={error} />;
}

export function SavedViews({ datasetId, openId, current, onOpen, onDeleted }: Props) {
  const client = useQueryClient();
  const views = useViews(datasetId);
  const [name, setName] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const path = { dataset_id: datasetId };
  const refresh = () => client.invalidateQueries({ queryKey: keys.views(datasetId) });

  const save = async () => {
    const checked = checkViewName(name);
    if (!checked.ok) return setError(checked.message);
    if (!current) return;
    setError(null);
    setBusy(true);
    try {
      await call(
        api.POST("/v1/datasets/{dataset_id}/views", {
          params: { path },
          body: { name: checked.name, where: filterBody(current) },
        }),
      );
      setName("");
      await refresh();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="saved-views" aria-labelledby="views-heading">
      <h2 id="views-heading">Saved views</h2>
      {views.error && <Failure error={views.error} />}
      {views.data && views.data.items.length === 0 && <p className="muted">None yet.</p>}
      <ul className="view-list" aria-labelledby="views-heading">
        {views.data?.items.map((view) => (
          <ViewRow
            key={view.id}
            datasetId={datasetId}
            view={view}
            open={view.id === openId}
            onOpen={() => onOpen(view.id)}
            onChanged={refresh}
            onDeleted={() => {
              if (view.id === openId) onDeleted(view);
              void refresh();
            }}
          />
        ))}
      </ul>
      <form
        className="save-view"
        onSubmit={(event) => {
          event.preventDefault();
          void save();
        }}
      >
        <input
          aria-label="View name"
          placeholder="View name"
          value={name}
          maxLength={120}
          onChange={(event) => setName(event.target.value)}
        />
        <button type="submit" disabled={busy || !current} title={current ? describeFilter(current) : undefined}>
          Save view
        </button>
      </form>
      {error !== null && <Problem error={error} />}
    </section>
  );
}

interface RowProps {
  datasetId: string;
  view: View;
  open: boolean;
  onOpen: () => void;
  onChanged: () => Promise<unknown>;
  onDeleted: () => void;
}

function ViewRow({ datasetId, view, open, onOpen, onChanged, onDeleted }: RowProps) {
  const client = useQueryClient();
  const [renaming, setRenaming] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const path = { dataset_id: datasetId, view_id: view.id };

  const rename = async (text: string) => {
    const checked = checkViewName(text);
    if (!checked.ok) return setError(checked.message);
    setError(null);
    try {
      // PUT replaces the whole view: send its filter back unchanged.
      await call(
        api.PUT("/v1/datasets/{dataset_id}/views/{view_id}", {
          params: { path },
          body: { name: checked.name, where: filterBody(filterOf(view.where)) },
        }),
      );
      setRenaming(null);
      await Promise.all([onChanged(), client.invalidateQueries({ queryKey: keys.view(datasetId, view.id) })]);
    } catch (failure) {
      setError(failure);
    }
  };
  const remove = async () => {
    setError(null);
    try {
      await call(api.DELETE("/v1/datasets/{dataset_id}/views/{view_id}", { params: { path } }));
      client.removeQueries({ queryKey: keys.view(datasetId, view.id) });
      onDeleted();
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <li data-view={view.id} className={open ? "current" : undefined}>
      {renaming === null ? (
        <div className="view-row">
          <button
            type="button"
            className="view-open"
            aria-current={open || undefined}
            title={describeFilter(filterOf(view.where))}
            onClick={onOpen}
          >
            {view.name}
          </button>
          <button
            type="button"
            className="link"
            aria-label={`Rename view ${view.name}`}
            onClick={() => setRenaming(view.name)}
          >
            Rename
          </button>
          <button
            type="button"
            className="link danger"
            aria-label={`Delete view ${view.name}`}
            onClick={() => void remove()}
          >
            Delete
          </button>
        </div>
      ) : (
        <form
          className="view-row"
          onSubmit={(event) => {
            event.preventDefault();
            void rename(renaming);
          }}
          onKeyDown={(event) => event.key === "Escape" && setRenaming(null)}
        >
          <input
            aria-label={`New name for ${view.name}`}
            value={renaming}
            maxLength={120}
            autoFocus
            onChange={(event) => setRenaming(event.target.value)}
          />
          <button type="submit">Save</button>
          <button type="button" className="link" onClick={() => setRenaming(null)}>
            Cancel
          </button>
        </form>
      )}
      {error !== null && <Problem error={error} />}
    </li>
  );
}
