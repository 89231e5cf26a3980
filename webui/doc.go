// Package webui is the web app every node serves to its owner at
// http://<api address>/ui/: node status, passport (with the consent screen),
// market, chat and a compute playground.
//
// The pages are rendered on the server with html/template, and one small
// vanilla JavaScript file adds forms that post JSON, fragments that refresh
// on server-sent events and the streamed completion. Templates, script and
// style sheet are embedded with go:embed: the app is small, works offline,
// pulls nothing from a CDN and has no npm tree or build step to rebuild or
// to audit. Escaping is html/template's: fragments the script swaps in are
// rendered by the same templates, so no data reaches the DOM unescaped.
//
// webui knows no service. The node hands it the API (an http.Handler whose
// routes check the bearer token) and the token, and event sources as
// functions (WithEvents). The page's script talks only to a same-origin
// bridge, /ui/api/…, which forwards to the API with the token added on the
// server, so the token never reaches the browser.
//
// Invariants:
//   - Every /ui/ request must carry a Host naming this server: the API's
//     listen address, 127.0.0.1, localhost or [::1], with the port it was
//     received on (DNS rebinding). Every state-changing request must come
//     from this app's own pages (CSRF): Sec-Fetch-Site same-origin, and an
//     Origin, when it names one, of that same host; a request with neither
//     header is refused.
//   - Everything but the login page and the static files needs a session:
//     a 256-bit random id in an HttpOnly, SameSite=Strict cookie, valid for
//     SessionTTL, kept only in memory (a restart logs everyone out).
//   - A session is made by posting the token on the login page or by a
//     login link: single use, valid for LoginLinkTTL, issued to a caller
//     that holds the token (tonmesh ui).
//   - Every answer carries a strict Content-Security-Policy (no inline
//     script or style, no framing), nosniff and no-referrer.
//   - The session cookie is named after the port (tonmesh_session_<port>):
//     browsers keep cookies by host, and a testnet's nodes share 127.0.0.1.
package webui
