/** A dataset's versioned snapshots: create one from the current filter, follow its progress,
 * download it, and compare two versions. */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link, useParams, useSearchParams } from "react-router-dom";
import { api, call, type Schemas } from "../api/client";
import { building, keys, useSnapshots } from "../api/queries";
import { Failure } from "../components/Failure";
import { filterParams, filterWhere, isFiltered, parseFilter } from "../filters";
import { bytes, count, when } from "../format";

type SnapshotFormat = NonNullable<Schemas["SnapshotRequest"]["format"]>;

export function SnapshotsPage() {
  const datasetId = useParams().datasetId!;
  const [search] = useSearchParams();
  const filter = useMemo(() => parseFilter(search), [search]);
  const client = useQueryClient();
  const [format, setFormat] = useState<SnapshotFormat>("coco");
  const [error, setError] = useState<unknown>(null);
  const [compare, setCompare] = useState<string[]>([]);
  const [requested, setRequested] = useState<string[]>([]);
  const snapshots = useSnapshots(datasetId, requested);
  const items = snapshots.data?.items ?? [];

  const create = async () => {
    setError(null);
    try {
      const accepted = await call(
        api.POST("/v1/datasets/{dataset_id}/snapshots", {
          params: { path: { dataset_id: datasetId } },
          body: { format, where: filterWhere(filter) },
        }),
      );
      setRequested((ids) => [...ids, accepted.snapshot_id]);
      await client.invalidateQueries({ queryKey: keys.snapshots(datasetId) });
    } catch (failure) {
      setError(failure);
    }
  };
  // The listing carries no URLs (each would be a signature); a version's own resource does.
  const download = async (version: number) => {
    try {
      const one = await call(
        api.GET("/v1/datasets/{dataset_id}/snapshots/{ref}", {
          params: { path: { dataset_id: datasetId, ref: String(version) } },
        }),
      );
      if (one.url) window.location.assign(one.url);
    } catch (failure) {
      setError(failure);
    }
  };
  const toggle = (ref: string) =>
    setCompare((now) => (now.includes(ref) ? now.filter((r) => r !== ref) : [...now.slice(-1), ref]));
  const where = filterParams(filter);

  return (
    <main className="page">
      <h1>
        <Link to="/">Datasets</Link> /{" "}
        <Link to={`/datasets/${encodeURIComponent(datasetId)}?${search}`}>{datasetId}</Link> / snapshots
      </h1>
      <form
        className="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          void create();
        }}
      >
        <label>
          Format
          <select value={format} onChange={(e) => setFormat(e.target.value as SnapshotFormat)}>
            <option value="coco">COCO</option>
            <option value="yolo">YOLO</option>
            <option value="voc">Pascal VOC</option>
            <option value="hf">Hugging Face</option>
          </select>
        </label>
        <span className="muted">
          {isFiltered(filter)
            ? `of the images matching ${Object.entries(where)
                .map(([k, v]) => `${k}=${v}`)
                .join(", ")}`
            : "of every image in the dataset"}
        </span>
        <button type="submit" className="primary">
          Create snapshot
        </button>
      </form>
      {error !== null && <Failure error={error} />}
      {snapshots.error && <Failure error={snapshots.error} />}
      <table className="catalog snapshots">
        <thead>
          <tr>
            <th scope="col">Compare</th>
            <th scope="col">Version</th>
            <th scope="col">Status</th>
            <th scope="col">Images</th>
            <th scope="col">Shapes</th>
            <th scope="col">Size</th>
            <th scope="col">Created</th>
            <th scope="col">Download</th>
          </tr>
        </thead>
        <tbody>
          {items.map((s) => (
            <tr key={s.snapshot_id} data-snapshot={s.snapshot_id} data-status={s.status}>
              <td>
                {s.version !== null && (
                  <input
                    type="checkbox"
                    aria-label={`Compare version ${s.version}`}
                    checked={compare.includes(String(s.version))}
                    onChange={() => toggle(String(s.version))}
                  />
                )}
              </td>
              <td>{s.version !== null ? `v${s.version}` : "—"}</td>
              <td>
                {building(s) ? (
                  <>
                    <progress
                      max={Math.max(s.progress.images_total, 1)}
                      value={s.progress.images_done}
                      aria-label={`snapshot ${s.snapshot_id} progress`}
                    />{" "}
                    {s.status}
                  </>
                ) : (
                  <span title={s.reason ?? undefined}>{s.status}</span>
                )}
              </td>
              <td className="num">{count(s.images)}</td>
              <td className="num">{count(s.shapes)}</td>
              <td className="num">{s.size !== null ? bytes(s.size) : "—"}</td>
              <td>{when(s.created_at)}</td>
              <td>
                {s.status === "ready" && s.version !== null ? (
                  <button type="button" className="link" onClick={() => void download(s.version!)}>
                    {s.format}.zip
                  </button>
                ) : (
                  "—"
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {requested
        .filter((id) => !items.some((s) => s.snapshot_id === id))
        .map((id) => (
          <p key={id} className="muted" role="status">
            Snapshot {id} requested; waiting for the snapshotter…
          </p>
        ))}
      {items.length === 0 && requested.length === 0 && snapshots.data && <p className="muted">No snapshots yet.</p>}
      {compare.length === 2 && <Diff datasetId={datasetId} a={compare[0]} b={compare[1]} />}
    </main>
  );
}

function Diff({ datasetId, a, b }: { datasetId: string; a: string; b: string }) {
  const [older, newer] = Number(a) < Number(b) ? [a, b] : [b, a];
  const diff = useQuery({
    queryKey: ["dataset", datasetId, "diff", older, newer],
    queryFn: () =>
      call(
        api.GET("/v1/datasets/{dataset_id}/snapshots/{a}/diff/{b}", {
          params: { path: { dataset_id: datasetId, a: older, b: newer } },
        }),
      ),
  });
  return (
    <section className="diff" aria-label="snapshot diff">
      <h2>
        v{older} → v{newer}
      </h2>
      {diff.error && <Failure error={diff.error} />}
      {diff.data && diff.data.length === 0 && <p>The two versions hold the same images and annotations.</p>}
      {diff.data && diff.data.length > 0 && (
        <ul>
          {diff.data.map((entry) => (
            <li key={entry.path} className={`change-${entry.change}`}>
              <code>{entry.change}</code> {entry.path}
              {entry.change === "changed" &&
                ` (${[entry.bytes && "image", entry.annotations && "annotations"].filter(Boolean).join(" and ")})`}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
