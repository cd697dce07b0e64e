/** The web dashboard's one-time sign-in links: `POST /api/v1/ui/links` and `POST /ui/exchange`. */
import { z } from "zod";
import { timestamp } from "./common.ts";

export const uiLink = z.object({
  /** The one-time code (43 characters of base64url, 256 random bits). Works once, until expiresAt. */
  code: z.string(),
  /** Where to open it on the daemon: `/ui/login#code=…` (the code stays in the fragment, never sent). */
  path: z.string(),
  expiresAt: timestamp,
});
export type UiLink = z.infer<typeof uiLink>;

/** A one-time code from a link, or the admin token pasted into the page: either buys a dashboard session. */
export const uiExchangeRequest = z.union([
  z.strictObject({ code: z.string().min(1).max(200) }),
  z.strictObject({ token: z.string().min(1).max(200) }),
]);

/** A dashboard session (not the admin token): scoped, expiring, bound to the browser by a cookie. */
export const uiExchangeResponse = z.object({ token: z.string(), expiresAt: timestamp.optional() });
