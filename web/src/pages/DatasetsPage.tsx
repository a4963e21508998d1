/** The catalog: every dataset the caller may read, with its counts and size. */
import { Link } from "react-router-dom";
import { useDatasets } from "../api/queries";
import { Failure } from "../components/Failure";
import { bytes, count, when } from "../format";

export function DatasetsPage() {
  const datasets = useDatasets();
  const items = datasets.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <main className="page">
      <h1>Datasets</h1>
      {datasets.isPending && <p className="muted">Loading…</p>}
      {datasets.error && <Failure error={datasets.error} />}
      {datasets.data && items.length === 0 && (
        <p className="muted">
          No datasets yet: upload images under <code>&lt;dataset&gt;/images/</code> in the bucket.
        </p>
      )}
      {items.length > 0 && (
        <table className="catalog">
          <thead>
            <tr>
              <th scope="col">Dataset</th>
              <th scope="col">Images</th>
              <th scope="col">Size</th>
              <th scope="col">Ready</th>
              <th scope="col">Pending</th>
              <th scope="col">Rejected / failed</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {items.map((d) => (
              <tr key={d.dataset_id} data-dataset={d.dataset_id}>
                <th scope="row">
                  <Link to={`/datasets/${encodeURIComponent(d.dataset_id)}`}>{d.dataset_id}</Link>
                </th>
                <td className="num">{count(d.image_count)}</td>
                <td className="num">{bytes(d.total_bytes)}</td>
                <td className="num">{count(d.statuses.ready)}</td>
                <td className="num">{count(d.statuses.pending)}</td>
                <td className="num">{count(d.statuses.rejected + d.statuses.failed)}</td>
                <td>{when(d.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {datasets.hasNextPage && (
        <p>
          <button type="button" onClick={() => void datasets.fetchNextPage()} disabled={datasets.isFetchingNextPage}>
            More datasets
          </button>
        </p>
      )}
    </main>
  );
}
