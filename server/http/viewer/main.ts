/**
 * Entry of the web viewer served at `/`. Chooses the view from the URL hash — `#twin`
 * (default) or `#metaverse` — and the join token: `#token=<jwt>` (deployments; also
 * `#metaverse&token=<jwt>`), or `#login=<code>` (the one-time link the server prints when
 * it runs without AUTH_SECRET, exchanged once for an operator token), removed from the
 * address bar once read, or else a development token from `POST /api/dev/token` for the
 * name and role in the form (only on the server's own machine).
 * Exposes `window.__agenttwin.snapshot()` for tests and debugging (see debug-hooks.ts).
 */
import { devToken, HttpError, login, type Role, roleOfToken } from "./api.ts";
import { idleSnapshot, type ViewerDebugHooks, type ViewerSnapshot } from "./debug-hooks.ts";
import { $ } from "./dom.ts";
import { StatusLine } from "./panels.ts";
import { describeError, stageMessage, type ViewContext } from "./view-context.ts";

declare global {
  interface Window {
    __agenttwin?: ViewerDebugHooks;
  }
}

type View = ViewerSnapshot["view"];

/**
 * `#metaverse&token=…`, `#token=…&view=metaverse`, `#login=…`, `#twin`, `#metaverse&room=<id>`
 * (a share link: join that room), `#metaverse&space=<name>` (a share link: join or reopen
 * that space), `` → view, token, code, room, space.
 */
export function parseHash(hash: string): {
  view: View;
  token: string;
  code: string;
  room: string;
  space: string;
} {
  let view: View = "twin";
  let token = "";
  let code = "";
  let room = "";
  let space = "";
  for (const part of hash.replace(/^#/, "").split("&")) {
    const [k, v] = part.split("=", 2) as [string, string | undefined];
    if (v === undefined) {
      if (k === "metaverse") view = "metaverse";
    } else if (k === "token") token = decodeURIComponent(v);
    else if (k === "login") code = decodeURIComponent(v);
    else if (k === "room" && /^[\w-]{1,64}$/.test(decodeURIComponent(v)))
      room = decodeURIComponent(v);
    else if (k === "space" && /^[\w-]{1,64}$/.test(decodeURIComponent(v)))
      space = decodeURIComponent(v);
    else if (k === "view" && v === "metaverse") view = "metaverse";
  }
  return { view, token, code, room, space };
}

const NAME_RE = /^[\w .-]{1,64}$/;

function boot(): void {
  const { view, token, code, room, space } = parseHash(location.hash);
  const keep = `#${view}${room ? `&room=${encodeURIComponent(room)}` : ""}${space ? `&space=${encodeURIComponent(space)}` : ""}`;
  if (token || code) {
    // Keep the token out of the address bar, bookmarks and screenshots.
    history.replaceState(null, "", `${location.pathname}${location.search}${keep}`);
  }
  // After a refused token or link: back to the form (the address bar holds no token now).
  $("#relogin").addEventListener("click", () => {
    history.replaceState(null, "", `${location.pathname}${location.search}${keep}`);
    location.reload();
  });
  $(`#nav-${view}`).classList.add("active");
  window.addEventListener("hashchange", () => {
    if (parseHash(location.hash).view !== view) location.reload();
  });

  const status = new StatusLine();
  // Before a view took over (signing in, or it failed to start): the status line as it is.
  let snapshot: () => ViewerSnapshot = () => ({
    ...idleSnapshot(view, status.text),
    status: status.status,
  });
  window.__agenttwin = { snapshot: () => snapshot() };

  const start = async (jwt: string, role: Role) => {
    $("#login").hidden = true;
    const ctx: ViewContext = {
      token: jwt,
      role,
      roomId: room,
      space,
      status,
      expose: (fn) => {
        snapshot = fn;
      },
    };
    try {
      if (view === "metaverse") {
        const { startMetaverseView } = await import("./metaverse-view.ts");
        await startMetaverseView(ctx);
      } else {
        const { startTwinView } = await import("./twin-view.ts");
        await startTwinView(ctx);
      }
    } catch (err) {
      status.set("error", `viewer failed: ${describeError(err)}`);
      stageMessage(`${status.text}. “Sign in again” (top) goes back to the sign-in form.`);
      console.error(err);
    }
  };

  if (token) {
    void start(token, roleOfToken(token) ?? "observer");
    return;
  }
  if (code) {
    status.set("connecting", "signing in with the login link…");
    login(code).then(
      (jwt) => start(jwt, "operator"),
      (err: unknown) =>
        status.set(
          "error",
          `login link refused (${describeError(err)}): it works once; restart the server for a new one`,
        ),
    );
    return;
  }
  const form = $<HTMLFormElement>("#login");
  const name = form.elements.namedItem("name") as HTMLInputElement;
  const role = form.elements.namedItem("role") as HTMLSelectElement;
  name.value =
    localStorage.getItem("agenttwin.name") ?? `viewer-${Math.random().toString(36).slice(2, 6)}`;
  role.value = localStorage.getItem("agenttwin.role") === "operator" ? "operator" : "observer";
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const who = name.value.trim();
    if (!NAME_RE.test(who)) {
      status.set("error", "name: 1–64 letters, digits, spaces, . _ -");
      return;
    }
    const r: Role = role.value === "observer" ? "observer" : "operator";
    localStorage.setItem("agenttwin.name", who);
    localStorage.setItem("agenttwin.role", r);
    status.set("connecting", "getting a development token…");
    devToken(who, r).then(
      (jwt) => start(jwt, r),
      (err: unknown) => {
        const disabled = err instanceof HttpError && (err.status === 404 || err.status === 403);
        status.set(
          "error",
          disabled
            ? "development tokens are not given here: open the viewer with #token=<jwt> or the login link"
            : `no token: ${describeError(err)}`,
        );
      },
    );
  });
}

boot();
