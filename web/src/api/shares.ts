/** Share links as their holders use them: no bearer token (the link's token is the credential), and
 * the unlocked session of a link with a password, kept for the browser session. */
import { type InfiniteData, useInfiniteQuery, useQuery } from "@tanstack/react-query";
import createClient from "openapi-fetch";
import { call, type Schemas } from "./client";
import type { paths } from "./schema";

export type SharedImage = Schemas["SharedImage"];
export type ShareInfo = Schemas["ShareInfo"];
export type SharedPage = Schemas["SharedImagesPage"];

// A client of its own: a 401 here is a link's password, never the bearer-token prompt.
const shareApi = createClient<paths>({ baseUrl: "" });
const SESSION = "X-Share-Session" as const;
const sessionKey = (token: string) => `assetflow.share.${token}`;

export function shareSession(token: string): string | null {
  return sessionStorage.getItem(sessionKey(token));
}

export function setShareSession(token: string, session: string): void {
  sessionStorage.setItem(sessionKey(token), session);
}

/** The header parameters of a share route: the unlocked session, if any. */
function header(token: string): { [SESSION]?: string } {
  const session = shareSession(token);
  return session ? { [SESSION]: session } : {};
}

export const shareKeys = {
  info: (token: string) => ["share", token] as const,
  images: (token: string) => ["share", token, "images"] as const,
  image: (token: string, imageId: string) => ["share", token, "image", imageId] as const,
};

/** What the link opens; a 404 (expired, revoked, unknown) is not retried. */
export function useShareInfo(token: string) {
  return useQuery({
    queryKey: shareKeys.info(token),
    retry: false,
    queryFn: () =>
      call(
        shareApi.GET("/v1/shares/{share_token}", { params: { path: { share_token: token }, header: header(token) } }),
      ),
  });
}

/** The link's images by cursor (only once it is open). */
export function useSharedImages(token: string, enabled: boolean) {
  return useInfiniteQuery<
    SharedPage,
    Error,
    InfiniteData<SharedPage, string | null>,
    readonly unknown[],
    string | null
  >({
    queryKey: shareKeys.images(token),
    enabled,
    retry: false,
    initialPageParam: null,
    queryFn: ({ pageParam, signal }) =>
      call(
        shareApi.GET("/v1/shares/{share_token}/images", {
          params: {
            path: { share_token: token },
            query: { limit: 100, cursor: pageParam ?? undefined },
            header: header(token),
          },
          signal,
        }),
      ),
    getNextPageParam: (last) => last.next_cursor,
  });
}

export function useSharedImage(token: string, imageId: string) {
  return useQuery({
    queryKey: shareKeys.image(token, imageId),
    retry: false,
    queryFn: () =>
      call(
        shareApi.GET("/v1/shares/{share_token}/images/{image_id}", {
          params: { path: { share_token: token, image_id: imageId }, header: header(token) },
        }),
      ),
  });
}

/** Trade the password for a session; an ApiError 401 when it is wrong. */
export async function unlockShare(token: string, password: string): Promise<void> {
  const { session } = await call(
    shareApi.POST("/v1/shares/{share_token}/unlock", {
      params: { path: { share_token: token } },
      body: { password },
    }),
  );
  setShareSession(token, session);
}
