/** Hash routes (#/, #/runners/42, #/launch?project=api, #/usage, #/events): the daemon serves one page. */
import { useEffect, useState } from "preact/hooks";
import { ID_PATTERN } from "../../lib/ids.ts";

export type Route =
  | { page: "fleet" }
  | { page: "runner"; id: number }
  | { page: "launch"; project?: string }
  | { page: "usage" }
  | { page: "events" }
  | { page: "missing"; hash: string };

const RUNNER_PATH = new RegExp(`^/runners/(${ID_PATTERN})$`);

export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#/, "") || "/";
  const [path, query = ""] = h.split("?");
  const params = new URLSearchParams(query);
  if (path === "/" || path === "") return { page: "fleet" };
  const runner = RUNNER_PATH.exec(path);
  if (runner) return { page: "runner", id: Number(runner[1]) };
  if (path === "/launch") return { page: "launch", project: params.get("project") ?? undefined };
  if (path === "/usage") return { page: "usage" };
  if (path === "/events") return { page: "events" };
  return { page: "missing", hash: h };
}

export function navigate(hash: string): void {
  if (location.hash !== hash) location.hash = hash;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}
