//! The route table and the OpenAPI 3.1 document written from it.
//!
//! One table drives both the router ([`crate::routes::routes`] registers every entry that has a
//! handler) and `/openapi.json`, so a route cannot exist without its documentation or the other
//! way round. Written by hand instead of with utoipa: a dozen GET routes with query parameters do
//! not justify a proc-macro stack on a 2-core build machine.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use serde_json::{Map, Value, json};

use crate::state::AppState;

/// How a parameter is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// Repeatable (`topic=a&topic=b`, or `topic=a,b`).
    List(&'static [&'static str]),
    Enum(&'static [&'static str]),
    Bool,
    Integer,
    Instant,
}

#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    pub doc: &'static str,
}

/// One documented route.
#[derive(Clone, Copy)]
pub struct RouteDoc {
    /// The path as documented (OpenAPI template syntax, which axum 0.8 shares).
    pub path: &'static str,
    pub summary: &'static str,
    pub tag: &'static str,
    /// The path parameter, if any.
    pub path_param: Option<&'static str>,
    pub params: &'static [Param],
    /// Media type of the 200 answer.
    pub produces: &'static str,
    /// Whether the route answers 304 to a matching If-None-Match / If-Modified-Since.
    pub conditional: bool,
    /// The handler; `None` when another entry's route serves this path (the router cannot
    /// match a suffix after a parameter, so `{id}.ics` is served by `{id}`).
    pub handler: Option<fn() -> MethodRouter<AppState>>,
}

impl std::fmt::Debug for RouteDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteDoc")
            .field("path", &self.path)
            .finish()
    }
}

const TOPIC: Param = Param {
    name: "topic",
    kind: Kind::List(&[]),
    doc: "topic id from /api/v1/topics; repeat for any of several",
};

/// Every filter of a search; the calendar, feeds and subscriptions take the same ones.
pub const FILTERS: &[Param] = &[
    Param {
        name: "q",
        kind: Kind::Text,
        doc: "words, \"phrases\", -exclusion, OR, parentheses (at most 256 characters, 8 levels); typo tolerant",
    },
    TOPIC,
    Param {
        name: "sector",
        kind: Kind::List(&["archives", "libraries", "museums"]),
        doc: "repeat for any of several",
    },
    Param {
        name: "modality",
        kind: Kind::List(&["online", "in_person", "hybrid", "self_paced"]),
        doc: "repeat for any of several",
    },
    Param {
        name: "provider",
        kind: Kind::List(&[]),
        doc: "provider id from /api/v1/providers; repeat for any of several",
    },
    Param {
        name: "from",
        kind: Kind::Instant,
        doc: "sessions ending at or after (YYYY-MM-DD or RFC 3339); default now",
    },
    Param {
        name: "to",
        kind: Kind::Instant,
        doc: "sessions starting before (YYYY-MM-DD or RFC 3339)",
    },
    Param {
        name: "free",
        kind: Kind::Bool,
        doc: "true: free only; false: paid only",
    },
    Param {
        name: "credits",
        kind: Kind::Enum(&[
            "any",
            "true",
            "ceu",
            "contact_hours",
            "credit_hours",
            "pdu",
            "ce_credits",
            "aca_credits",
        ]),
        doc: "offerings that give continuing-education credits (of a unit)",
    },
    Param {
        name: "status",
        kind: Kind::List(&["scheduled", "cancelled", "postponed"]),
        doc: "repeat for any of several; default all",
    },
    Param {
        name: "on_demand",
        kind: Kind::Bool,
        doc: "false leaves out undated (self-paced, on-demand) offerings",
    },
];

const SEARCH_PARAMS: &[Param] = &[
    Param {
        name: "sort",
        kind: Kind::Enum(&["relevance", "start", "updated"]),
        doc: "default relevance with q, else start",
    },
    Param {
        name: "cursor",
        kind: Kind::Text,
        doc: "next_cursor of the previous page",
    },
    Param {
        name: "limit",
        kind: Kind::Integer,
        doc: "hits per page, default 20, clamped to 100",
    },
    Param {
        name: "offset",
        kind: Kind::Integer,
        doc: "at most 1000; page further with cursor",
    },
];

const CALENDAR_PARAMS: &[Param] = &[
    Param {
        name: "max_events",
        kind: Kind::Integer,
        doc: "most events (default 1500, at most 10000); the soonest are kept",
    },
    Param {
        name: "max_kb",
        kind: Kind::Integer,
        doc: "most kilobytes (default about 1000, at most 8000)",
    },
];

const FEED_PARAMS: &[Param] = &[Param {
    name: "limit",
    kind: Kind::Integer,
    doc: "entries (default 50, at most 500)",
}];

fn h_search() -> MethodRouter<AppState> {
    get(crate::routes::search)
}
fn h_offering() -> MethodRouter<AppState> {
    get(crate::routes::offering)
}
fn h_topics() -> MethodRouter<AppState> {
    get(crate::routes::topics)
}
fn h_providers() -> MethodRouter<AppState> {
    get(crate::routes::providers)
}
fn h_calendar() -> MethodRouter<AppState> {
    get(crate::calendar::calendar)
}
fn h_atom() -> MethodRouter<AppState> {
    get(crate::calendar::feed_atom)
}
fn h_json() -> MethodRouter<AppState> {
    get(crate::calendar::feed_json)
}
fn h_subscriptions() -> MethodRouter<AppState> {
    get(crate::calendar::subscriptions)
}
fn h_openapi() -> MethodRouter<AppState> {
    get(openapi_json)
}

/// Every route of this crate.
pub const ROUTES: &[RouteDoc] = &[
    RouteDoc {
        path: "/api/v1/offerings",
        summary: "search offerings: hits (one per duplicate cluster) with snippets, facet counts, total and a next cursor",
        tag: "search",
        path_param: None,
        params: &[],
        produces: "application/json",
        conditional: false,
        handler: Some(h_search),
    },
    RouteDoc {
        path: "/api/v1/offerings/{id}",
        summary: "one offering with every member of its duplicate cluster and their providers",
        tag: "search",
        path_param: Some("id"),
        params: &[],
        produces: "application/json",
        conditional: false,
        handler: Some(h_offering),
    },
    RouteDoc {
        path: "/api/v1/offerings/{id}.ics",
        summary: "one offering as iCalendar (add to my calendar); 404 when it has no dated session",
        tag: "calendar",
        path_param: Some("id"),
        params: &[],
        produces: "text/calendar",
        conditional: false,
        handler: None,
    },
    RouteDoc {
        path: "/api/v1/topics",
        summary: "the topic vocabulary with counts of upcoming offerings",
        tag: "search",
        path_param: None,
        params: &[],
        produces: "application/json",
        conditional: false,
        handler: Some(h_topics),
    },
    RouteDoc {
        path: "/api/v1/providers",
        summary: "providers with counts of upcoming offerings",
        tag: "search",
        path_param: None,
        params: &[],
        produces: "application/json",
        conditional: false,
        handler: Some(h_providers),
    },
    RouteDoc {
        path: "/calendar.ics",
        summary: "any search as a subscribable calendar (default window 7 days back to 12 months ahead)",
        tag: "calendar",
        path_param: None,
        params: CALENDAR_PARAMS,
        produces: "text/calendar",
        conditional: true,
        handler: Some(h_calendar),
    },
    RouteDoc {
        path: "/feed.atom",
        summary: "any search as an Atom 1.0 feed",
        tag: "calendar",
        path_param: None,
        params: FEED_PARAMS,
        produces: "application/atom+xml",
        conditional: true,
        handler: Some(h_atom),
    },
    RouteDoc {
        path: "/feed.json",
        summary: "any search as a JSON Feed 1.1",
        tag: "calendar",
        path_param: None,
        params: FEED_PARAMS,
        produces: "application/feed+json",
        conditional: true,
        handler: Some(h_json),
    },
    RouteDoc {
        path: "/api/v1/subscriptions",
        summary: "the URLs (and the calendar's webcal URL) of the calendar and feeds of a search",
        tag: "calendar",
        path_param: None,
        params: &[],
        produces: "application/json",
        conditional: false,
        handler: Some(h_subscriptions),
    },
    RouteDoc {
        path: "/openapi.json",
        summary: "this document",
        tag: "meta",
        path_param: None,
        params: &[],
        produces: "application/json",
        conditional: false,
        handler: Some(h_openapi),
    },
];

/// Who may call a management operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Public,
    /// The operator's admin token.
    Admin,
    /// A provider's API key.
    Provider,
}

/// One documented management operation (served by [`crate::management_router`]).
#[derive(Debug, Clone, Copy)]
pub struct OpDoc {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub tag: &'static str,
    pub auth: Auth,
    /// The JSON body's fields, described; `None` when it takes none.
    pub body: Option<&'static str>,
    /// Status and media type of the success answer.
    pub ok: (u16, &'static str),
}

const fn op(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    tag: &'static str,
    auth: Auth,
    body: Option<&'static str>,
    ok: (u16, &'static str),
) -> OpDoc {
    OpDoc {
        method,
        path,
        summary,
        tag,
        auth,
        body,
        ok,
    }
}

const JSON: &str = "application/json";
const NONE: &str = "";

/// Every management operation, as `management_router` serves it.
pub const MANAGE_ROUTES: &[OpDoc] = &[
    op(
        "get",
        "/healthz",
        "the process is up",
        "health",
        Auth::Public,
        None,
        (200, "text/plain"),
    ),
    op(
        "get",
        "/readyz",
        "ready: index open, loops working, store writable; 503 names what is not",
        "health",
        Auth::Public,
        None,
        (200, "text/plain"),
    ),
    op(
        "get",
        "/metrics",
        "Prometheus metrics (bearer metrics token when one is configured)",
        "health",
        Auth::Public,
        None,
        (200, "text/plain"),
    ),
    op(
        "post",
        "/api/v1/admin/providers",
        "create a provider",
        "admin",
        Auth::Admin,
        Some("name (a-z, 0-9, -), display_name, sectors (archives, libraries, museums), audience"),
        (201, JSON),
    ),
    op(
        "get",
        "/api/v1/admin/providers",
        "list providers",
        "admin",
        Auth::Admin,
        None,
        (200, JSON),
    ),
    op(
        "patch",
        "/api/v1/admin/providers/{name}",
        "change a provider's declared sectors or audience",
        "admin",
        Auth::Admin,
        Some("sectors, audience (null clears)"),
        (200, JSON),
    ),
    op(
        "post",
        "/api/v1/admin/providers/{name}/keys",
        "issue a key for a provider (shown once)",
        "admin",
        Auth::Admin,
        Some("label, expires_in_days (optional)"),
        (201, JSON),
    ),
    op(
        "delete",
        "/api/v1/admin/keys/{id}",
        "revoke any key",
        "admin",
        Auth::Admin,
        None,
        (204, NONE),
    ),
    op(
        "get",
        "/api/v1/keys",
        "the caller's keys with last use and expiry, never secrets",
        "keys",
        Auth::Provider,
        None,
        (200, JSON),
    ),
    op(
        "post",
        "/api/v1/keys",
        "another key for the caller (shown once)",
        "keys",
        Auth::Provider,
        Some("label, expires_in_days (optional)"),
        (201, JSON),
    ),
    op(
        "delete",
        "/api/v1/keys/{id}",
        "revoke one of the caller's keys",
        "keys",
        Auth::Provider,
        None,
        (204, NONE),
    ),
    op(
        "post",
        "/api/v1/sources",
        "register a source",
        "sources",
        Auth::Provider,
        Some(
            "name, url, kind (auto, rss, atom, jsonfeed, ics, html), timezone, dates, sectors, audience",
        ),
        (201, JSON),
    ),
    op(
        "get",
        "/api/v1/sources",
        "the caller's sources with their status",
        "sources",
        Auth::Provider,
        None,
        (200, JSON),
    ),
    op(
        "post",
        "/api/v1/sources/batch",
        "register many sources",
        "sources",
        Auth::Provider,
        Some("sources: [source as for POST /api/v1/sources]"),
        (200, JSON),
    ),
    op(
        "post",
        "/api/v1/sources/preview",
        "fetch and parse a URL without storing anything",
        "sources",
        Auth::Provider,
        Some("url, kind, timezone, dates, sectors, audience"),
        (200, JSON),
    ),
    op(
        "post",
        "/api/v1/sources/discover",
        "feed and calendar links found on a homepage",
        "sources",
        Auth::Provider,
        Some("url"),
        (200, JSON),
    ),
    op(
        "get",
        "/api/v1/sources/opml",
        "the caller's sources as OPML",
        "sources",
        Auth::Provider,
        None,
        (200, "text/x-opml"),
    ),
    op(
        "post",
        "/api/v1/sources/opml",
        "register the feeds of an OPML document",
        "sources",
        Auth::Provider,
        Some("an OPML document"),
        (200, JSON),
    ),
    op(
        "get",
        "/api/v1/sources/{id}",
        "a source's status and recent fetches",
        "sources",
        Auth::Provider,
        None,
        (200, JSON),
    ),
    op(
        "patch",
        "/api/v1/sources/{id}",
        "change a source",
        "sources",
        Auth::Provider,
        Some("url, kind, timezone, dates, sectors, audience, enabled"),
        (200, JSON),
    ),
    op(
        "delete",
        "/api/v1/sources/{id}",
        "delete a source (upcoming offerings stay cancelled in calendars for 30 days)",
        "sources",
        Auth::Provider,
        None,
        (204, NONE),
    ),
    op(
        "post",
        "/api/v1/sources/{id}/refresh",
        "fetch the source now",
        "sources",
        Auth::Provider,
        None,
        (202, JSON),
    ),
    op(
        "delete",
        "/api/v1/sources/{id}/offerings/{offering}",
        "take one offering down now",
        "sources",
        Auth::Provider,
        None,
        (204, NONE),
    ),
    op(
        "get",
        "/api/v1/sources/{id}/scorecard",
        "the source's data-quality scorecard",
        "sources",
        Auth::Provider,
        None,
        (200, JSON),
    ),
];

fn error_answer(what: &str) -> Value {
    json!({
        "description": what,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

fn too_many() -> Value {
    let mut v = error_answer(
        "too many requests (rate limit, or previews running); wait Retry-After seconds",
    );
    if let Some(m) = v.as_object_mut() {
        m.insert(
            "headers".into(),
            json!({ "Retry-After": { "schema": { "type": "integer" }, "description": "seconds" } }),
        );
    }
    v
}

/// The path parameters of a templated path, in order.
fn path_params(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect()
}

fn operation(o: &OpDoc) -> Value {
    let mut responses = Map::new();
    let (code, media) = o.ok;
    let ok = if media.is_empty() {
        json!({ "description": "done" })
    } else {
        json!({ "description": "ok", "content": { media: {} } })
    };
    responses.insert(code.to_string(), ok);
    let mut errors = vec![("400", "invalid request: a field, the JSON or a limit")];
    if o.auth != Auth::Public {
        errors.push(("401", "missing, wrong, revoked or expired credentials"));
        errors.push(("403", "not allowed for this caller"));
    }
    if o.path.contains('{') {
        errors.push(("404", "no such item (or not the caller's)"));
    }
    if o.body.is_some() {
        errors.push(("413", "body larger than the limit"));
        errors.push((
            "422",
            "refused by policy (address policy, unreadable document)",
        ));
    }
    if o.path == "/readyz" {
        errors.push(("503", "not ready; the message says why"));
    }
    for (c, what) in errors {
        responses.insert(c.into(), error_answer(what));
    }
    responses.insert("429".into(), too_many());
    let mut v = json!({
        "summary": o.summary,
        "tags": [o.tag],
        "parameters": path_params(o.path),
        "responses": responses,
    });
    if let Some(m) = v.as_object_mut() {
        if o.auth != Auth::Public {
            m.insert("security".into(), json!([{ "bearer": [] }]));
        }
        if let Some(fields) = o.body {
            let media = if o.path.ends_with("/opml") {
                "text/x-opml"
            } else {
                JSON
            };
            m.insert(
                "requestBody".into(),
                json!({
                    "required": true,
                    "description": fields,
                    "content": { media: { "schema": { "type": if media == JSON { "object" } else { "string" } } } }
                }),
            );
        }
    }
    v
}

/// Which routes take the search filters.
fn takes_filters(r: &RouteDoc) -> bool {
    matches!(
        r.path,
        "/api/v1/offerings"
            | "/calendar.ics"
            | "/feed.atom"
            | "/feed.json"
            | "/api/v1/subscriptions"
    )
}

fn param_schema(kind: Kind) -> Value {
    match kind {
        Kind::Text => json!({ "type": "string" }),
        Kind::List([]) => {
            json!({ "type": "array", "items": { "type": "string" } })
        }
        Kind::List(values) => {
            json!({ "type": "array", "items": { "type": "string", "enum": values } })
        }
        Kind::Enum(values) => json!({ "type": "string", "enum": values }),
        Kind::Bool => json!({ "type": "boolean" }),
        Kind::Integer => json!({ "type": "integer" }),
        Kind::Instant => json!({ "type": "string", "format": "date-time" }),
    }
}

fn param_doc(p: &Param) -> Value {
    let mut v = json!({
        "name": p.name,
        "in": "query",
        "required": false,
        "description": p.doc,
        "schema": param_schema(p.kind),
    });
    if matches!(p.kind, Kind::List(_))
        && let Some(m) = v.as_object_mut()
    {
        m.insert("style".into(), json!("form"));
        m.insert("explode".into(), json!(true));
    }
    v
}

/// The OpenAPI 3.1 document of `routes`.
pub fn document(routes: &[RouteDoc]) -> Value {
    let mut paths = Map::new();
    for r in routes {
        let mut params: Vec<Value> = Vec::new();
        if let Some(name) = r.path_param {
            params.push(json!({
                "name": name, "in": "path", "required": true, "schema": { "type": "string" }
            }));
        }
        if takes_filters(r) {
            params.extend(FILTERS.iter().map(param_doc));
        }
        if r.path == "/api/v1/offerings" {
            params.extend(SEARCH_PARAMS.iter().map(param_doc));
        }
        params.extend(r.params.iter().map(param_doc));
        let mut responses = Map::new();
        responses.insert(
            "200".into(),
            json!({ "description": "ok", "content": { r.produces: {} } }),
        );
        if r.conditional {
            responses.insert(
                "304".into(),
                json!({ "description": "not modified (If-None-Match / If-Modified-Since)" }),
            );
        }
        let err = json!({
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
        });
        for (code, what) in [
            (
                "400",
                "bad parameter, invalid query or cursor, offset too deep, to not after from, \
                 calendar window too long",
            ),
            ("404", "no such offering"),
            (
                "503",
                "the index is not available yet, or the search ran out of time",
            ),
        ] {
            let mut e = err.clone();
            if let Some(m) = e.as_object_mut() {
                m.insert("description".into(), json!(what));
            }
            responses.insert(code.into(), e);
        }
        responses.insert("429".into(), too_many());
        paths.insert(
            r.path.into(),
            json!({ "get": {
                "summary": r.summary,
                "tags": [r.tag],
                "parameters": params,
                "responses": responses,
            }}),
        );
    }
    for o in MANAGE_ROUTES {
        let entry = paths.entry(o.path).or_insert_with(|| json!({}));
        if let Some(m) = entry.as_object_mut() {
            m.insert(o.method.into(), operation(o));
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "coalesce",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "continuing-education offerings of archives, libraries and museums, gathered from many providers"
        },
        "paths": paths,
        "components": {
            "securitySchemes": { "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "a provider's API key (clsc_...), or the operator's admin token for /api/v1/admin"
            }},
            "schemas": { "Error": {
            "type": "object",
            "required": ["error"],
            "properties": { "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": { "code": { "type": "string" }, "message": { "type": "string" } }
            }}
        }}}
    })
}

async fn openapi_json(State(_): State<AppState>) -> Response {
    let mut res = (StatusCode::OK, document(ROUTES).to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}
