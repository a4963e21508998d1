/** An admin's share links of a dataset: create one (the open saved view or the whole dataset, an
 * expiry, optionally a password and originals), see its link once, list and revoke. */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, call, type Schemas } from "../api/client";
import { checkSharePassword, DEFAULT_EXPIRY, EXPIRIES, shareStatus, shareUrl } from "../shares";
import { Failure } from "./Failure";

type Share = Schemas["SharePublic"];

interface Props {
  datasetId: string;
  /** The open saved view, if one is: what "this view" shares. */
  view: { id: string; name: string } | null;
  onClose: () => void;
}

const sharesKey = (datasetId: string) => ["dataset", datasetId, "shares"] as const;

export function ShareDialog({ datasetId, view, onClose }: Props) {
  const client = useQueryClient();
  const path = { dataset_id: datasetId };
  const shares = useQuery({
    queryKey: sharesKey(datasetId),
    queryFn: () => call(api.GET("/v1/datasets/{dataset_id}/shares", { params: { path } })),
  });
  const [ofView, setOfView] = useState(view !== null);
  const [expiresIn, setExpiresIn] = useState<number>(DEFAULT_EXPIRY);
  const [password, setPassword] = useState("");
  const [originals, setOriginals] = useState(false);
  const [created, setCreated] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const refresh = () => client.invalidateQueries({ queryKey: sharesKey(datasetId) });

  const create = async () => {
    const checked = checkSharePassword(password);
    if (!checked.ok) return setError(new Error(checked.message));
    setBusy(true);
    setError(null);
    try {
      const share = await call(
        api.POST("/v1/datasets/{dataset_id}/shares", {
          params: { path },
          body: {
            expires_in_s: expiresIn,
            view_id: ofView && view ? view.id : null,
            password: checked.password,
            allow_originals: originals,
          },
        }),
      );
      setCreated(shareUrl(window.location.origin, share.path));
      setPassword("");
      await refresh();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (share: Share) => {
    setError(null);
    try {
      await call(
        api.DELETE("/v1/datasets/{dataset_id}/shares/{share_id}", {
          params: { path: { ...path, share_id: share.id } },
        }),
      );
      await refresh();
    } catch (failure) {
      setError(failure);
    }
  };

  const now = new Date();
  return (
    <div className="backdrop">
      <div role="dialog" aria-modal="true" aria-labelledby="share-title" className="dialog">
        <h2 id="share-title">Share {datasetId}</h2>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            void create();
          }}
          className="dialog-form"
        >
          <fieldset>
            <legend>What to share</legend>
            <label>
              <input type="radio" checked={ofView} disabled={!view} onChange={() => setOfView(true)} />
              {view ? `the view “${view.name}”` : "a saved view (open one first)"}
            </label>
            <label>
              <input type="radio" checked={!ofView} onChange={() => setOfView(false)} />
              the whole dataset
            </label>
          </fieldset>
          <label>
            Expires after
            <select value={expiresIn} onChange={(event) => setExpiresIn(Number(event.target.value))}>
              {EXPIRIES.map((expiry) => (
                <option key={expiry.seconds} value={expiry.seconds}>
                  {expiry.label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Password (optional)
            <input
              type="password"
              value={password}
              onChange={(event) => setPassword(event.target.value)}
              autoComplete="new-password"
            />
          </label>
          <label>
            <input type="checkbox" checked={originals} onChange={(event) => setOriginals(event.target.checked)} />
            Allow downloading originals
          </label>
          <div className="actions">
            <button type="submit" className="primary" disabled={busy}>
              Create link
            </button>
          </div>
        </form>
        {created && (
          <div className="share-created" role="status">
            <label>
              New link (shown this once)
              <input readOnly value={created} onFocus={(event) => event.target.select()} />
            </label>
            <button type="button" onClick={() => void navigator.clipboard?.writeText(created)}>
              Copy
            </button>
          </div>
        )}
        {error !== null && <Failure error={error} />}
        <h3>Links</h3>
        {shares.error && <Failure error={shares.error} />}
        {shares.data && shares.data.items.length === 0 && <p className="muted">None yet.</p>}
        <ul className="share-list" aria-label="share links">
          {shares.data?.items.map((share) => (
            <li key={share.id} data-state={share.state}>
              <span>
                {share.view_id ? `view ${share.view_name ?? "(deleted)"}` : "whole dataset"} · {shareStatus(share, now)}
                {share.has_password ? " · password" : ""}
                {share.allow_originals ? " · originals" : ""}
              </span>
              <span className="spacer" />
              {share.state === "active" && (
                <button type="button" className="link" onClick={() => void revoke(share)}>
                  Revoke
                </button>
              )}
            </li>
          ))}
        </ul>
        <div className="actions">
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  );
}
