"""The routes this app serves, each with why it is needed, and the rest of Gradio's refused with why: an
allow-list, so that a route a future Gradio adds is refused (404, nothing in the log) until a decision about
it is written here.

    route_of("GET", "/gradio_api/deep_link")   # -> None: refused before Gradio sees the request
    route_of("POST", "/gradio_api/queue/join")  # -> the Route, with its kind and why

tests/server/test_routes.py walks the app's real route table and fails on a route that is neither in ALLOWED
nor in REFUSED. "The page" is what web/ and Gradio's front-end request (recorded from Chromium drawing,
picking a gallery digit, uploading, comparing, downloading the GIF and opening the API page); "scripts" are
gradio_client (view_api, predict, submit, cancel) and the curl examples of the API page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from server.settings import COSTLY_LOAD


class Kind(Enum):
    LOAD = "load"  # answered at once; counted against the address's loads
    STREAM = "stream"  # held open (server-sent events); counted while open
    EVENT = "event"  # queues or runs one of the app's events; the event limits
    UPLOAD = "upload"  # a multipart body of files; the upload limits
    CONTROL = "control"  # a small JSON body, answered at once


@dataclass(frozen=True)
class Route:
    name: str
    methods: frozenset[str]
    path: re.Pattern[str]  # the request paths it takes (whole path)
    gradio: tuple[str, ...]  # the templates in Gradio's route table it covers
    kind: Kind
    why: str
    cost: int = 1  # tokens of the address's loads it takes
    this_machine_only: bool = False  # anyone else gets 404, as for a refused route


def _route(name: str, methods: str, path: str, gradio: tuple[str, ...], kind: Kind, why: str, cost: int = 1,
           this_machine_only: bool = False) -> Route:
    return Route(name, frozenset(methods.split()), re.compile(path), gradio, kind, why, cost, this_machine_only)


ALLOWED: tuple[Route, ...] = (
    _route("page", "GET HEAD", r"/", ("/",), Kind.LOAD, "the page itself (HEAD: uptime checks)", COSTLY_LOAD),
    _route("config", "GET", r"/config/?", ("/config", "/config/"), Kind.LOAD,
           "the app's config: gradio_client reads it first (the page has it inline)", COSTLY_LOAD),
    _route("assets", "GET", r"/assets/.+", ("/assets/{path:path}",), Kind.LOAD, "the page's scripts and styles"),
    _route("static", "GET", r"/static/.+", ("/static/{path:path}",), Kind.LOAD,
           "the page's fonts and iframeResizer (Gradio's page loads it for the Space's iframe)"),
    _route("theme", "GET", r"/theme\.css", ("/theme.css",), Kind.LOAD, "the page's theme"),
    _route("favicon", "GET", r"/favicon\.ico", ("/favicon.ico",), Kind.LOAD, "browsers ask for it"),
    _route("manifest", "GET", r"/manifest\.json", ("/manifest.json",), Kind.LOAD,
           "Gradio's page links it (<link rel=manifest>), so browsers may ask"),
    _route("robots", "GET", r"/robots\.txt", ("/robots.txt",), Kind.LOAD, "crawlers ask for it"),
    _route("info", "GET", r"/gradio_api/info/?", ("/gradio_api/info", "/gradio_api/info/"), Kind.LOAD,
           "the API: gradio_client's view_api() and the page's API view", COSTLY_LOAD),
    _route("openapi", "GET", r"/gradio_api/openapi\.json", ("/gradio_api/openapi.json",), Kind.LOAD,
           "the API as OpenAPI: the Hub's documentation of Spaces as API endpoints points scripts at it", COSTLY_LOAD),
    _route("app id", "GET", r"/gradio_api/app_id/?", ("/gradio_api/app_id", "/gradio_api/app_id/"), Kind.LOAD,
           "the page's client asks after a lost connection whether the app changed"),
    _route("file", "GET HEAD", r"/gradio_api/file=.+", ("/gradio_api/file={path_or_url:path}",), Kind.LOAD,
           "files the app hands out: the GIF, an upload's preview, the v1 API's pictures"),
    _route("startup events", "GET", r"/gradio_api/startup-events", ("/gradio_api/startup-events",), Kind.LOAD,
           "Gradio's launch() asks it once, from this machine, to run the app's start-up events", this_machine_only=True),
    _route("heartbeat", "GET", r"/gradio_api/heartbeat/[^/]+", ("/gradio_api/heartbeat/{session_hash}",), Kind.STREAM,
           "the page and gradio_client hold it open while a session lives"),
    _route("result stream", "GET", r"/gradio_api/queue/data", ("/gradio_api/queue/data",), Kind.STREAM,
           "the results of a session's events (the page, gradio_client)"),
    _route("call result", "GET", r"/gradio_api/call/(?!v2/)[^/]+/[^/]+", ("/gradio_api/call/{api_name}/{event_id}",),
           Kind.STREAM, "the API page's curl: the result of POST /call/<name>"),
    _route("upload progress", "GET", r"/gradio_api/upload_progress", ("/gradio_api/upload_progress",), Kind.STREAM,
           "the page follows an upload's progress"),
    _route("join", "POST", r"/gradio_api/queue/join", ("/gradio_api/queue/join",), Kind.EVENT,
           "every event of the page and of gradio_client"),
    _route("call", "POST", r"/gradio_api/call/(?!v2/)[^/]+/?", ("/gradio_api/call/{api_name}",
                                                                 "/gradio_api/call/{api_name}/"), Kind.EVENT,
           "the API page's curl examples: POST /call/<name>, then GET its result"),
    _route("upload", "POST", r"/gradio_api/upload", ("/gradio_api/upload",), Kind.UPLOAD,
           "a photo or scan from the page, a file from gradio_client's handle_file"),
    _route("cancel", "POST", r"/gradio_api/cancel", ("/gradio_api/cancel",), Kind.CONTROL,
           "gradio_client's Job.cancel()"),
    _route("reset", "POST", r"/gradio_api/reset/?", ("/gradio_api/reset", "/gradio_api/reset/"), Kind.CONTROL,
           "gradio_client sends it after a cancel (a no-op in Gradio 6)"),
)

# Gradio 6.31's other routes (templates as in its route table), refused: nothing here is needed by the page or a
# script, and several cost the server or write to disk.
_NO_AUTH = "this app has no login"
_NOT_HERE = "a Gradio feature this app does not use"
REFUSED: dict[str, str] = {
    "/gradio_api/deep_link": "writes a session's whole config (~410 KB) to the cache, which no cleanup deletes "
                             "(156 files, +64 MB in 6 s from one address)",
    "/gradio_api/process_recording": "runs ffmpeg on a posted clip (~7 s of CPU per effect; 256 KB holds ~2,000)",
    "/gradio_api/component_server": "creates session state for any session_hash before any check (1,100 posts "
                                    "evicted an honest session)",
    "/gradio_api/component_server/": "the same",
    "/gradio_api/run/{api_name}": "a direct call that skips the queue; the page and gradio_client use the queue, "
                                  "and on a Space Gradio closes it for queued events itself",
    "/gradio_api/run/{api_name}/": "the same",
    "/gradio_api/api/{api_name}": "the same as /run/",
    "/gradio_api/api/{api_name}/": "the same as /run/",
    "/gradio_api/call/v2/{api_name}": "a second curl format; the API page documents /call/<name>",
    "/gradio_api/call/v2/{api_name}/": "the same",
    "/gradio_api/call/v2/{api_name}/{event_id}": "the same",
    "/gradio_api/queue/status": "the page never shows queue positions (show_progress='hidden')",
    "/gradio_api/proxy={url_path:path}": "relays requests to other Spaces",
    "/gradio_api/file/{path:path}": "the deprecated spelling of /file=",
    "/gradio_api/stream/{event_id}": "media streaming; this app streams nothing",
    "/gradio_api/stream/{event_id}/close": "media streaming",
    "/gradio_api/stream/{session_hash}/{run}/{component_id}/playlist.m3u8": "media streaming",
    "/gradio_api/stream/{session_hash}/{run}/{component_id}/{segment_id}.{ext}": "media streaming",
    "/gradio_api/stream/{session_hash}/{run}/{component_id}/playlist-file": "media streaming",
    "/gradio_api/custom_component/{id}/{environment}/{type}/{file_name}": "this app has no custom components",
    "/gradio_api/theme.css": "the page loads /theme.css",
    "/gradio_api/runs": "run history is off (run_history=False)",
    "/gradio_api/runs/": "run history is off",
    "/gradio_api/dev/reload": "development reload only",
    "/gradio_api/vibe-edit": "Gradio's vibe editor (development only)",
    "/gradio_api/vibe-edit/": "the vibe editor",
    "/gradio_api/undo-vibe-edit": "the vibe editor",
    "/gradio_api/undo-vibe-edit/": "the vibe editor",
    "/gradio_api/vibe-code": "the vibe editor",
    "/gradio_api/vibe-code/": "the vibe editor",
    "/gradio_api/vibe-starter-queries": "the vibe editor",
    "/gradio_api/vibe-starter-queries/": "the vibe editor",
    "/gradio_api/user": _NO_AUTH,
    "/gradio_api/user/": _NO_AUTH,
    "/gradio_api/login_check": _NO_AUTH,
    "/gradio_api/login_check/": _NO_AUTH,
    "/gradio_api/token": _NO_AUTH,
    "/gradio_api/token/": _NO_AUTH,
    "/login": _NO_AUTH,
    "/login/": _NO_AUTH,
    "/logout": _NO_AUTH,
    "/monitoring": "monitoring is off (it would answer anyone)",
    "/monitoring/summary": "monitoring is off",
    "/monitoring/{key}": "monitoring is off",
    "/openapi.json": "FastAPI's own schema of Gradio's internals; the API's is /gradio_api/openapi.json",
    "/svelte/{path:path}": "server-side rendering is off (ssr_mode=False)",
    "/pwa_icon": "the app is not a PWA (it resizes the favicon on request)",
    "/pwa_icon/{size}": _NOT_HERE,
}


def route_of(method: str, path: str) -> Route | None:
    """The allowed route a request is for, or None: refuse it."""
    for route in ALLOWED:
        if method in route.methods and route.path.fullmatch(path):
            return route
    return None
