//! The HTTP handlers. Each turns the JSON body into typed values, calls its
//! route's plugin through a typed proxy within the route's deadline, and
//! turns the answer (or the error, through [`ApiError`]) into JSON.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use example_interfaces::{CaseMode, Document, FilterError, FilterOptions};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wasm_sandbox::component::Val;

use crate::Service;
use crate::error::ApiError;
use crate::json::{from_val, to_vals};
use crate::metrics::{RouteMetrics, prometheus};

/// The shared state of every handler.
pub(crate) type AppState = State<Arc<Service>>;

// ANCHOR: greet
/// The body of `POST /greet`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GreetRequest {
    name: String,
}

/// The answer of `POST /greet`.
#[derive(Debug, Serialize)]
pub(crate) struct GreetResponse {
    greeting: String,
}

/// `POST /greet {"name": "Ada"}` → `{"greeting": "Hello, Ada!"}`.
pub(crate) async fn greet(
    State(service): AppState,
    body: Result<Json<GreetRequest>, JsonRejection>,
) -> Result<Json<GreetResponse>, ApiError> {
    let Json(request) = body?;
    let name = request.name;
    let greeting = service
        .greeter
        .call(|greeter| async move { greeter.greet(name).await })
        .await?;
    Ok(Json(GreetResponse { greeting }))
}
// ANCHOR_END: greet

/// The body of `POST /filter`: a document and how to filter it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FilterRequest {
    title: String,
    lines: Vec<String>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    options: FilterRequestOptions,
}

/// The `options` of `POST /filter`; every field may be left out.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct FilterRequestOptions {
    max_lines: u32,
    drop_empty: bool,
    case: Case,
}

impl Default for FilterRequestOptions {
    fn default() -> Self {
        FilterRequestOptions {
            max_lines: 100,
            drop_empty: false,
            case: Case::Keep,
        }
    }
}

/// `CaseMode` in JSON: `"keep"`, `"upper"` or `"lower"`.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Case {
    Keep,
    Upper,
    Lower,
}

/// The answer of `POST /filter`: the filtered document.
#[derive(Debug, Serialize)]
pub(crate) struct FilterResponse {
    title: String,
    lines: Vec<String>,
    tags: Option<Vec<String>>,
}

// ANCHOR: filter
/// `POST /filter`: the text filter plugin cleans a document up, or refuses
/// it (422, with the plugin's reason).
pub(crate) async fn filter(
    State(service): AppState,
    body: Result<Json<FilterRequest>, JsonRejection>,
) -> Result<Json<FilterResponse>, ApiError> {
    let Json(request) = body?;
    // JSON stops here: the plugin gets typed records and enums.
    let doc = Document {
        title: request.title,
        lines: request.lines,
        tags: request.tags,
    };
    let opts = FilterOptions {
        max_lines: request.options.max_lines,
        drop_empty: request.options.drop_empty,
        case: match request.options.case {
            Case::Keep => CaseMode::Keep,
            Case::Upper => CaseMode::Upper,
            Case::Lower => CaseMode::Lower,
        },
    };
    let answer = service
        .filter
        .call(|filter| async move { filter.filter(doc, opts).await })
        .await;
    // The outer `?`: the call failed (a trap, a limit, a denied host call).
    // The inner `Result`: the plugin's own answer.
    match answer? {
        Ok(doc) => Ok(Json(FilterResponse {
            title: doc.title,
            lines: doc.lines,
            tags: doc.tags,
        })),
        Err(refused) => Err(refusal(&refused)),
    }
}
// ANCHOR_END: filter

/// The text filter's refusal as a 422 response.
fn refusal(err: &FilterError) -> ApiError {
    let (message, detail) = match err {
        FilterError::Empty => ("the document has no lines".to_string(), json!("empty")),
        FilterError::TooLong { limit, actual } => (
            format!(
                "the document has {actual} lines, more than the {limit} allowed; send fewer lines or raise `options.max_lines`"
            ),
            json!({ "too_long": { "limit": limit, "actual": actual } }),
        ),
        FilterError::Rejected(reason) => (
            format!("the filter rejected the document: {reason}"),
            json!({ "rejected": reason }),
        ),
    };
    ApiError::plugin_refused(message, detail)
}

/// The answer of `POST /hog/{action}`.
#[derive(Debug, Serialize)]
pub(crate) struct HogResponse {
    action: String,
    result: u64,
}

/// The arguments of `POST /hog/{action}`; each action reads the ones it
/// needs.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct HogArgs {
    x: u32,
    n: u32,
    ms: u64,
    bytes: u64,
    depth: Option<u64>,
    message: Option<String>,
}

/// What `POST /hog/{action}` can ask the hog plugin to do.
pub(crate) const HOG_ACTIONS: &[&str] = &[
    "add-one",
    "fib",
    "sleep",
    "spin",
    "grow-memory",
    "allocate",
    "recurse",
    "panic",
];

// ANCHOR: hog
/// `POST /hog/{action}` with an optional JSON object of arguments: asks the
/// hostile plugin to behave (`add-one {"x"}`, `fib {"n"}`, `sleep {"ms"}`)
/// or to misbehave (`spin`, `grow-memory`, `allocate {"bytes"}`,
/// `recurse {"depth"}`, `panic {"message"}`). Answers
/// `{"action": .., "result": n}`, or the error the misbehaviour became.
pub(crate) async fn hog(
    State(service): AppState,
    Path(action): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<HogResponse>, ApiError> {
    let body = body?;
    let args: HogArgs = if body.iter().all(u8::is_ascii_whitespace) {
        HogArgs::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(format!(
                "the body is not the arguments of `{action}`: {e}; send a JSON object such as {{\"n\": 20}}"
            ))
        })?
    };
    let hog = &service.hog;
    let result: u64 = match action.as_str() {
        "add-one" => {
            hog.call(|h| async move { h.add_one(args.x).await.map(u64::from) })
                .await?
        }
        "fib" => hog.call(|h| async move { h.fib(args.n).await }).await?,
        "sleep" => hog.call(|h| async move { h.sleep(args.ms).await }).await?,
        "spin" => hog.call(|h| async move { h.spin().await }).await?,
        "grow-memory" => {
            hog.call(|h| async move { h.grow_memory().await.map(u64::from) })
                .await?
        }
        "allocate" => {
            hog.call(|h| async move { h.allocate(args.bytes).await })
                .await?
        }
        "recurse" => {
            let depth = args.depth.unwrap_or(u64::MAX);
            hog.call(|h| async move { h.recurse(depth).await }).await?
        }
        "panic" => {
            let message = args.message.unwrap_or_else(|| "asked to panic".to_string());
            hog.call(|h| async move { h.panic(message).await.map(u64::from) })
                .await?
        }
        other => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_action",
                format!(
                    "the hog has no action `{other}`; use one of: {}",
                    HOG_ACTIONS.join(", ")
                ),
            ));
        }
    };
    Ok(Json(HogResponse { action, result }))
}
// ANCHOR_END: hog

/// `POST /call/{route}/{function}` with a JSON array of arguments: calls
/// any export of a route's plugin (if the route allows dynamic calls).
/// Arguments are converted with the export's WIT types; arguments that do
/// not fit are a `TypeMismatch` (400), an unknown function a 404.
pub(crate) async fn call(
    State(service): AppState,
    Path((route_name, function)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = body?;
    let route = service.route(&route_name).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_route",
            format!(
                "there is no route `{route_name}`; use one of: {}",
                service.route_names().join(", ")
            ),
        )
    })?;
    if !route.dynamic_calls {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "dynamic_calls_disabled",
            format!(
                "route `{}` does not allow dynamic calls; use its own endpoint",
                route.name
            ),
        ));
    }
    let args: Vec<Value> = if body.iter().all(u8::is_ascii_whitespace) {
        Vec::new()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(format!(
                "the body is not a JSON array of arguments: {e}; send for example [\"Ada\"]"
            ))
        })?
    };
    // `greet` finds `example-interfaces:greeter/plugin@0.1.0#greet` when
    // only one export has that function name; any other name goes to the
    // sandbox as it is, which says what the plugin exports.
    let pool = &route.pool;
    let exports = pool.list_exports();
    let by_function: Vec<_> = exports
        .iter()
        .filter(|f| f.function() == function)
        .collect();
    let export = match by_function[..] {
        [only] => Some(only),
        _ => exports
            .iter()
            .find(|f| f.short_name() == function || f.name() == function),
    };
    let params: Vec<Val> = match export {
        Some(export) => to_vals(&args, export.params().map(|(_, ty)| ty)),
        None => Vec::new(),
    };
    let export_name = export.map_or_else(|| function.clone(), |f| f.name().to_string());
    let pool = pool.clone();
    let results = route
        .run(async move { pool.call_dynamic(&export_name, &params).await })
        .await?;
    match results.first() {
        Some(Val::Result(Err(err))) => Err(ApiError::plugin_refused(
            format!(
                "`{function}` returned its error value (in `detail`): the plugin refused these arguments"
            ),
            err.as_deref().map_or(Value::Null, from_val),
        )),
        Some(val) => Ok(Json(json!({ "result": from_val(val) }))),
        None => Ok(Json(json!({ "result": null }))),
    }
}

/// One route in the answer of `GET /plugins`.
#[derive(Debug, Serialize)]
pub(crate) struct PluginInfo {
    route: &'static str,
    plugin: String,
    max_instances: usize,
    exports: Vec<String>,
}

/// A list of routes, as `GET /plugins` and `GET /metrics` answer.
#[derive(Debug, Serialize)]
pub(crate) struct Routes<T> {
    routes: Vec<T>,
}

/// `GET /plugins`: every route's plugin and its exports, as WIT.
pub(crate) async fn plugins(State(service): AppState) -> Json<Routes<PluginInfo>> {
    let routes = service
        .pools()
        .map(|(route, pool)| PluginInfo {
            route,
            plugin: pool.name().to_string(),
            max_instances: pool.max_instances(),
            exports: pool.list_exports().iter().map(|f| f.to_string()).collect(),
        })
        .collect();
    Json(Routes { routes })
}

/// The query of `GET /metrics`.
#[derive(Debug, Deserialize)]
pub(crate) struct MetricsQuery {
    format: Option<String>,
}

/// `GET /metrics`: each route's pool counters as JSON, or
/// `GET /metrics?format=prometheus` in the Prometheus text format.
pub(crate) async fn metrics(
    State(service): AppState,
    Query(query): Query<MetricsQuery>,
) -> Result<Response, ApiError> {
    let routes: Vec<RouteMetrics> = service
        .pools()
        .map(|(route, pool)| RouteMetrics::of(route, pool))
        .collect();
    match query.format.as_deref() {
        None | Some("json") => Ok(Json(Routes { routes }).into_response()),
        Some("prometheus") => Ok((
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            prometheus(&routes),
        )
            .into_response()),
        Some(other) => Err(ApiError::bad_request(format!(
            "unknown metrics format `{other}`; use `json` or `prometheus`"
        ))),
    }
}

/// Any other path.
pub(crate) async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; the service answers POST /greet, POST /filter, POST /hog/{action}, \
         POST /call/{route}/{function}, GET /plugins and GET /metrics",
    )
}
