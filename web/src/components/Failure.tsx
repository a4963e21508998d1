/** An error as a person reads it: the problem's title and detail. */
import { ApiError } from "../api/client";

export function Failure({ error }: { error: unknown }) {
  if (error instanceof ApiError) {
    return (
      <p role="alert" className="error">
        <strong>{error.problem.title ?? `HTTP ${error.status}`}</strong>
        {error.problem.detail ? `: ${error.problem.detail}` : ""}
      </p>
    );
  }
  return (
    <p role="alert" className="error">
      {error instanceof Error ? error.message : String(error)}
    </p>
  );
}
