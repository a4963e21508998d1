/** The shell: header, routes, and the token prompt when the API asks for one (never on a share
 * link's page: its holder has no token, the link is the credential). */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link, Route, Routes, useLocation } from "react-router-dom";
import { currentToken, onTokenRejected, setToken } from "./api/token";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { DatasetPage } from "./pages/DatasetPage";
import { DatasetsPage } from "./pages/DatasetsPage";
import { SharePage } from "./pages/SharePage";
import { SnapshotsPage } from "./pages/SnapshotsPage";

export function App() {
  const [asking, setAsking] = useState<string | null>(null);
  useEffect(() => onTokenRejected(setAsking), []);
  const { pathname } = useLocation();
  if (pathname.startsWith("/s/")) return <SharedApp />;
  return (
    <>
      <header className="top">
        <Link to="/" className="brand" aria-label="assetflow home">
          <img src="/favicon.svg" alt="" width={22} height={22} /> assetflow
        </Link>
        <nav aria-label="account">
          <button type="button" className="link" onClick={() => setAsking("Paste a bearer token for this session.")}>
            {currentToken() ? "Change token" : "Token"}
          </button>
        </nav>
      </header>
      <ErrorBoundary>
        <Routes>
          <Route path="/" element={<DatasetsPage />} />
          <Route path="/datasets/:datasetId/snapshots" element={<SnapshotsPage />} />
          <Route path="/datasets/:datasetId/*" element={<DatasetPage />} />
          <Route
            path="*"
            element={
              <main className="page">
                <h1>Not found</h1>
                <Link to="/">All datasets</Link>
              </main>
            }
          />
        </Routes>
      </ErrorBoundary>
      {asking !== null && <TokenDialog reason={asking} onDone={() => setAsking(null)} />}
    </>
  );
}

/** A share link's page: a header without the rest of the app (nothing else opens with a link). */
function SharedApp() {
  return (
    <>
      <header className="top">
        <span className="brand">
          <img src="/favicon.svg" alt="" width={22} height={22} /> assetflow
        </span>
        <nav aria-label="account">
          <span className="muted">shared link</span>
        </nav>
      </header>
      <ErrorBoundary>
        <Routes>
          <Route path="/s/:token/*" element={<SharePage />} />
        </Routes>
      </ErrorBoundary>
    </>
  );
}

function TokenDialog({ reason, onDone }: { reason: string; onDone: () => void }) {
  const client = useQueryClient();
  const [value, setValue] = useState("");
  return (
    <div className="backdrop">
      <form
        role="dialog"
        aria-modal="true"
        aria-labelledby="token-title"
        className="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          setToken(value);
          onDone();
          void client.invalidateQueries();
        }}
      >
        <h2 id="token-title">Sign in with a token</h2>
        <p>{reason}</p>
        <p className="muted">
          Make one with <code>assetflow token --sub me --scope 'datasets:*:write'</code>; it is kept for this browser
          session only.
        </p>
        <label>
          Bearer token
          <textarea value={value} onChange={(e) => setValue(e.target.value)} rows={4} required autoFocus />
        </label>
        <div className="actions">
          <button type="button" onClick={onDone}>
            Cancel
          </button>
          <button type="submit" className="primary">
            Use token
          </button>
        </div>
      </form>
    </div>
  );
}
