/** The typed /v1 client: openapi-fetch over the API's own OpenAPI, a bearer token, problem errors. */
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { currentToken, tokenRejected } from "./token";

export type Schemas = components["schemas"];
export type Image = Schemas["ImagePublic"];
export type Dataset = Schemas["DatasetStats"];
/** A shape as the API stores it; the generated type of its oneOf is too loose to edit with. */
export interface Shape {
  id: string;
  type: "bbox" | "polygon" | "points" | "tag";
  label: string;
  bbox?: [number, number, number, number] | null;
  points?: [number, number][] | null;
  score?: number | null;
  attributes?: Record<string, string | number | boolean | null> | null;
}
export type Snapshot = Schemas["SnapshotPublic"];
export type Problem = Schemas["Problem"];

/** An RFC 9457 problem from the API, thrown by `call`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Partial<Problem> & Record<string, unknown>,
  ) {
    super(problem.detail || problem.title || `HTTP ${status}`);
  }
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = currentToken();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) tokenRejected(response.headers.get("WWW-Authenticate") ?? "");
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: "" });
api.use(auth);

/** The data of an openapi-fetch result, or an ApiError with the problem it carried. */
export async function call<T>(pending: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await pending;
  if (!response.ok) {
    const problem = (error && typeof error === "object" ? error : {}) as ApiError["problem"];
    throw new ApiError(response.status, problem);
  }
  return data as T;
}

/** Headers for requests made without the client (SSE, downloads). */
export function authHeaders(): Record<string, string> {
  const token = currentToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}
