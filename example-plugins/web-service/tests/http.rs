//! The service over real HTTP on 127.0.0.1: every route, the status of
//! every kind of error, and a hostile plugin next to good requests. Each
//! test starts its own server on a free port. No timing is asserted.

use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use wasm_sandbox::SecurityPolicy;
use web_service_example::ServiceConfig;

/// A server running in the test's runtime.
struct Server {
    addr: SocketAddr,
}

/// An HTTP answer: its status, content type and body (JSON when it parses).
#[derive(Debug)]
struct Reply {
    status: u16,
    content_type: String,
    retry_after: Option<String>,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The `error` and `message` of an error body, after checking the
    /// status.
    fn error(&self, status: u16) -> (String, String) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.content_type, "application/json", "{self:?}");
        let body = self.json();
        (
            body["error"].as_str().expect("an error kind").to_string(),
            body["message"].as_str().expect("a message").to_string(),
        )
    }
}

async fn start(config: ServiceConfig) -> Server {
    let app = web_service_example::router(config)
        .await
        .expect("the example plugins load");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Server { addr }
}

impl Server {
    /// Sends one request on a new connection.
    async fn send(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: String,
    ) -> Reply {
        let stream = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.addr.to_string());
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        let request = request.body(Full::new(Bytes::from(body))).unwrap();
        let response = sender.send_request(request).await.unwrap();
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        let content_type = header("content-type").unwrap_or_default();
        let retry_after = header("retry-after");
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            content_type,
            retry_after,
            text: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.send("POST", path, Some("application/json"), body.to_string())
            .await
    }

    async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None, String::new()).await
    }

    /// One route's pool counters from `GET /metrics`.
    async fn metrics(&self, route: &str) -> Value {
        let reply = self.get("/metrics").await;
        assert_eq!(reply.status, 200, "{reply:?}");
        reply.json()["routes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["route"] == route)
            .unwrap_or_else(|| panic!("no route {route}"))
            .clone()
    }

    /// Waits until `route`'s counter `figure` reaches `count` (bounded:
    /// 2000 polls).
    async fn wait_for(&self, route: &str, figure: &str, count: u64) {
        for _ in 0..2000 {
            if self.metrics(route).await[figure].as_u64().unwrap() >= count {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{route}'s {figure} never reached {count}");
    }
}

fn config(configure: impl FnOnce(&mut ServiceConfig)) -> ServiceConfig {
    let mut config = ServiceConfig::default();
    configure(&mut config);
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greet_answers_with_the_greeting() {
    let server = start(ServiceConfig::default()).await;
    let reply = server.post("/greet", json!({ "name": "Ada" })).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.content_type, "application/json");
    assert_eq!(reply.json(), json!({ "greeting": "Hello, Ada!" }));

    // Calls may also run on the threads that serve HTTP.
    let server = start(config(|c| c.greeter.threads = 0)).await;
    let reply = server.post("/greet", json!({ "name": "Grace" })).await;
    assert_eq!(reply.json(), json!({ "greeting": "Hello, Grace!" }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_cleans_a_document() {
    let server = start(ServiceConfig::default()).await;
    let reply = server
        .post(
            "/filter",
            json!({
                "title": "Notes",
                "lines": ["  Agenda", "", "Budget"],
                "tags": ["team"],
                "options": { "drop_empty": true, "case": "upper" },
            }),
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        reply.json(),
        json!({ "title": "Notes", "lines": ["  AGENDA", "BUDGET"], "tags": ["team"] })
    );
    // Options and tags may be left out.
    let reply = server
        .post("/filter", json!({ "title": "T", "lines": ["a"] }))
        .await;
    assert_eq!(
        reply.json(),
        json!({ "title": "T", "lines": ["a"], "tags": null })
    );
    // A fresh instance per request, each used once.
    let m = server.metrics("text-filter").await;
    assert_eq!(m["checkouts"], 2, "{m}");
    assert_eq!(m["discarded"], 2, "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugins_refusal_is_422_with_its_reason() {
    let server = start(ServiceConfig::default()).await;
    // The banned word comes from the host's key-value store.
    let reply = server
        .post(
            "/filter",
            json!({ "title": "Creds", "lines": ["the password is hunter2"] }),
        )
        .await;
    let (kind, message) = reply.error(422);
    assert_eq!(kind, "plugin_error");
    assert_eq!(
        message,
        "the filter rejected the document: contains `password`"
    );
    assert_eq!(
        reply.json()["detail"],
        json!({ "rejected": "contains `password`" })
    );

    let reply = server
        .post(
            "/filter",
            json!({ "title": "Long", "lines": ["a", "b", "c"], "options": { "max_lines": 2 } }),
        )
        .await;
    reply.error(422);
    assert_eq!(
        reply.json()["detail"],
        json!({ "too_long": { "limit": 2, "actual": 3 } })
    );

    let reply = server
        .post("/filter", json!({ "title": "Empty", "lines": [] }))
        .await;
    reply.error(422);
    assert_eq!(reply.json()["detail"], "empty");

    // Another banned word, from the configuration.
    let server = start(config(|c| c.banned_word = Some("secret".into()))).await;
    let reply = server
        .post(
            "/filter",
            json!({ "title": "Creds", "lines": ["the password is hunter2"] }),
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let reply = server
        .post("/filter", json!({ "title": "S", "lines": ["top secret"] }))
        .await;
    assert_eq!(reply.error(422).0, "plugin_error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hog_behaves_when_asked_to() {
    let server = start(ServiceConfig::default()).await;
    for (action, body, result) in [
        ("add-one", json!({ "x": 41 }), json!(42)),
        ("fib", json!({ "n": 20 }), json!(6765)),
        ("sleep", json!({ "ms": 5 }), json!(5)),
        ("allocate", json!({ "bytes": 1 << 20 }), json!(1 << 20)),
    ] {
        let reply = server.post(&format!("/hog/{action}"), body).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(reply.json(), json!({ "action": action, "result": result }));
    }
    // No body at all is no arguments.
    let reply = server
        .send("POST", "/hog/add-one", None, String::new())
        .await;
    assert_eq!(reply.json()["result"], 1);
    let reply = server.post("/hog/explode", json!({})).await;
    let (kind, message) = reply.error(404);
    assert_eq!(kind, "unknown_action");
    assert!(message.contains("add-one, fib, sleep"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_calls_convert_json_with_the_wit_types() {
    let server = start(ServiceConfig::default()).await;
    let reply = server.post("/call/greeter/greet", json!(["Ada"])).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.json(), json!({ "result": "Hello, Ada!" }));

    let reply = server.post("/call/hog/add-one", json!([41])).await;
    assert_eq!(reply.json(), json!({ "result": 42 }));

    // Records, lists, options, enums in; a result of a record out.
    let doc = json!({ "title": "Notes", "lines": ["a", "", "b"] });
    let opts = json!({ "max-lines": 10, "drop-empty": true, "case": "upper" });
    let reply = server
        .post("/call/text-filter/filter", json!([doc, opts]))
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        reply.json(),
        json!({ "result": { "ok": { "title": "Notes", "lines": ["A", "B"], "tags": null } } })
    );
    // The plugin's `err` is a 422 carrying the variant.
    let doc = json!({ "title": "Long", "lines": ["a", "b"], "tags": ["x"] });
    let opts = json!({ "max-lines": 1, "drop-empty": false, "case": "keep" });
    let reply = server
        .post("/call/text-filter/filter", json!([doc, opts]))
        .await;
    reply.error(422);
    assert_eq!(
        reply.json()["detail"],
        json!({ "too-long": { "limit": 1, "actual": 2 } })
    );
    // A function without arguments, called with no body.
    let reply = server
        .send("POST", "/call/text-filter/name", None, String::new())
        .await;
    assert_eq!(reply.json(), json!({ "result": "cleaner" }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugins_and_metrics_describe_the_routes() {
    let server = start(ServiceConfig::default()).await;
    let reply = server.get("/plugins").await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let routes = reply.json()["routes"].as_array().unwrap().clone();
    let names: Vec<&str> = routes
        .iter()
        .map(|r| r["route"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["greeter", "text-filter", "hog"]);
    assert_eq!(
        routes[0]["exports"],
        json!(["greet: func(name: string) -> string"])
    );
    assert_eq!(routes[2]["max_instances"], 4);

    for name in ["Ada", "Grace", "Barbara"] {
        let reply = server.post("/greet", json!({ "name": name })).await;
        assert_eq!(reply.status, 200);
    }
    let m = server.metrics("greeter").await;
    assert_eq!(m["checkouts"], 3, "{m}");
    assert_eq!(
        m["created"], 1,
        "sequential requests reuse the instance: {m}"
    );
    assert_eq!(
        (m["in_use"].clone(), m["idle"].clone()),
        (json!(0), json!(1))
    );
    assert_eq!(m["max_instances"], 8);

    let reply = server.get("/metrics?format=prometheus").await;
    assert_eq!(reply.status, 200);
    assert!(reply.content_type.starts_with("text/plain"), "{reply:?}");
    assert!(
        reply
            .text
            .contains("wasm_sandbox_pool_checkouts_total{route=\"greeter\"} 3\n"),
        "{}",
        reply.text
    );
    assert!(
        reply
            .text
            .contains("wasm_sandbox_pool_max_instances{route=\"hog\"} 4\n")
    );
    let (kind, _) = server.get("/metrics?format=xml").await.error(400);
    assert_eq!(kind, "bad_request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_traps_and_bad_calls_map_to_their_statuses() {
    let server = start(config(|c| c.hog.cpu_timeout = Duration::from_millis(200))).await;

    let reply = server.post("/hog/spin", json!({})).await;
    let (kind, message) = reply.error(504);
    assert_eq!(kind, "time_limit");
    assert!(
        message.contains("ran past its deadline of 200ms"),
        "{message}"
    );
    assert_eq!(reply.json()["detail"], json!({ "limit": "time" }));

    let (kind, message) = server.post("/hog/grow-memory", json!({})).await.error(507);
    assert_eq!(kind, "memory_limit");
    assert!(message.contains("the limit is 16.0 MiB"), "{message}");

    let reply = server
        .post("/hog/allocate", json!({ "bytes": 64u64 << 20 }))
        .await;
    assert_eq!(reply.error(507).0, "memory_limit");

    let (kind, message) = server.post("/hog/recurse", json!({})).await.error(507);
    assert_eq!(kind, "stack_limit");
    assert!(message.contains("stack"), "{message}");

    let reply = server
        .post("/hog/panic", json!({ "message": "the plugin gave up" }))
        .await;
    let (kind, message) = reply.error(502);
    assert_eq!(kind, "trap");
    assert!(message.contains("the plugin gave up"), "{message}");

    // Arguments that do not fit the WIT signature.
    let (kind, message) = server
        .post("/call/greeter/greet", json!([5]))
        .await
        .error(400);
    assert_eq!(kind, "type_mismatch");
    assert!(
        message.contains("func(name: string) -> string"),
        "{message}"
    );
    let (kind, message) = server
        .post("/call/greeter/greet", json!(["a", "b"]))
        .await
        .error(400);
    assert_eq!(kind, "type_mismatch");
    assert!(message.contains("it takes 1"), "{message}");
    let opts = json!({ "max-lines": -1, "drop-empty": false, "case": "keep" });
    let (kind, message) = server
        .post(
            "/call/text-filter/filter",
            json!([{ "title": "t", "lines": [] }, opts]),
        )
        .await
        .error(400);
    assert_eq!(kind, "type_mismatch");
    assert!(message.contains("max-lines"), "{message}");

    // A function the plugin does not have; a route that does not exist.
    let reply = server.post("/call/greeter/gret", json!(["Ada"])).await;
    let (kind, message) = reply.error(404);
    assert_eq!(kind, "export_not_found");
    assert!(message.contains("did you mean"), "{message}");
    assert!(reply.json()["detail"]["suggestions"].is_array());
    let (kind, message) = server.post("/call/nope/x", json!([])).await.error(404);
    assert_eq!(kind, "unknown_route");
    assert!(message.contains("greeter, text-filter, hog"), "{message}");
    let (kind, _) = server.get("/nowhere").await.error(404);
    assert_eq!(kind, "not_found");

    // After all that, every route still answers.
    assert_eq!(
        server.post("/hog/add-one", json!({ "x": 1 })).await.json()["result"],
        2
    );
    assert_eq!(
        server.post("/greet", json!({ "name": "Ada" })).await.status,
        200
    );
    // Each failed hog call discarded its instance.
    let m = server.metrics("hog").await;
    assert_eq!(m["discarded"], 5, "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_are_told_what_to_send() {
    let server = start(config(|c| c.max_body_bytes = 1024)).await;
    let send = |path: &'static str, ct: Option<&'static str>, body: &str| {
        let body = body.to_string();
        let server = &server;
        async move { server.send("POST", path, ct, body).await }
    };
    let json_ct = Some("application/json");

    let (kind, message) = send("/greet", json_ct, "{not json").await.error(400);
    assert_eq!(kind, "bad_request");
    assert!(message.contains("send a JSON body"), "{message}");
    let (kind, message) = send("/greet", json_ct, r#"{"nom": "Ada"}"#)
        .await
        .error(400);
    assert_eq!(kind, "bad_request");
    assert!(message.contains("nom"), "{message}");
    let (kind, _) = send("/greet", None, r#"{"name": "Ada"}"#).await.error(415);
    assert_eq!(kind, "unsupported_media_type");
    let big = json!({ "name": "x".repeat(2000) }).to_string();
    let (kind, _) = send("/greet", json_ct, &big).await.error(413);
    assert_eq!(kind, "payload_too_large");
    let (kind, _) = send("/hog/fib", json_ct, &big).await.error(413);
    assert_eq!(kind, "payload_too_large");
    let (kind, message) = send("/hog/fib", json_ct, r#"{"n": "twenty"}"#)
        .await
        .error(400);
    assert_eq!(kind, "bad_request");
    assert!(message.contains("arguments of `fib`"), "{message}");
    let (kind, _) = send("/call/greeter/greet", json_ct, r#"{"name": 1}"#)
        .await
        .error(400);
    assert_eq!(kind, "bad_request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_route_runs_under_its_own_policy() {
    // This deployment does not let the text filter use the store: its
    // lookup of the banned word is refused, and the request with it.
    let server = start(config(|c| {
        c.text_filter.policy = SecurityPolicy::microservice();
        c.greeter.dynamic_calls = false;
    }))
    .await;
    let reply = server
        .post("/filter", json!({ "title": "T", "lines": ["a"] }))
        .await;
    let (kind, message) = reply.error(403);
    assert_eq!(kind, "security_violation");
    assert!(
        message.contains("example-interfaces:key-value/key-value#get"),
        "{message}"
    );
    assert!(message.contains("Capability::Custom"), "{message}");
    // The other routes are not affected.
    assert_eq!(
        server.post("/greet", json!({ "name": "Ada" })).await.status,
        200
    );
    // Dynamic calls are a per-route choice too.
    let (kind, _) = server
        .post("/call/greeter/greet", json!(["Ada"]))
        .await
        .error(403);
    assert_eq!(kind, "dynamic_calls_disabled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_with_every_instance_busy_answers_503() {
    let server = start(config(|c| {
        c.hog.max_instances = 1;
        c.hog.preload_instances = 1;
        c.hog.checkout_timeout = Duration::from_millis(100);
        c.hog.cpu_timeout = Duration::from_secs(10);
        c.hog.request_timeout = Duration::from_secs(20);
    }))
    .await;
    let busy = {
        let addr = server.addr;
        tokio::spawn(async move {
            Server { addr }
                .post("/hog/sleep", json!({ "ms": 4000 }))
                .await
        })
    };
    // The sleep has the only instance (for 4 s).
    server.wait_for("hog", "in_use", 1).await;
    let reply = server.post("/hog/add-one", json!({ "x": 1 })).await;
    let (kind, message) = reply.error(503);
    assert_eq!(kind, "pool_timeout");
    assert!(
        message.contains("all 1 instances of the pool are busy"),
        "{message}"
    );
    assert_eq!(reply.retry_after.as_deref(), Some("1"));
    // The other routes have their own instances.
    assert_eq!(
        server.post("/greet", json!({ "name": "Ada" })).await.status,
        200
    );
    let slept = busy.await.unwrap();
    assert_eq!(slept.json()["result"], 4000);
    assert_eq!(server.metrics("hog").await["timeouts"], 1);
    assert_eq!(
        server.post("/hog/add-one", json!({ "x": 1 })).await.json()["result"],
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_its_deadline_is_cancelled_with_504() {
    // The plugin's own limit is far away; the request's deadline is not.
    let server = start(config(|c| {
        c.hog.max_instances = 1;
        c.hog.cpu_timeout = Duration::from_secs(30);
        c.hog.request_timeout = Duration::from_millis(200);
    }))
    .await;
    let reply = server.post("/hog/sleep", json!({ "ms": 20_000 })).await;
    let (kind, message) = reply.error(504);
    assert_eq!(kind, "request_timeout");
    assert!(message.contains("route `hog`"), "{message}");
    // The cancelled call's instance was thrown away, not reused (the
    // abort lands at the call's next yield, maybe after the answer).
    server.wait_for("hog", "discarded", 1).await;
    let m = server.metrics("hog").await;
    assert_eq!(
        (m["discarded"].clone(), m["in_use"].clone()),
        (json!(1), json!(0)),
        "{m}"
    );
    assert_eq!(
        server.post("/hog/add-one", json!({ "x": 1 })).await.json()["result"],
        2
    );
    // A spin is cancelled the same way: the guest yields at each epoch.
    let (kind, _) = server.post("/hog/spin", json!({})).await.error(504);
    assert_eq!(kind, "request_timeout");
    server.wait_for("hog", "discarded", 2).await;
    assert_eq!(server.metrics("hog").await["in_use"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_hangs_up_cancels_its_call() {
    use tokio::io::AsyncWriteExt;

    let server = start(config(|c| {
        c.hog.max_instances = 1;
        c.hog.cpu_timeout = Duration::from_secs(60);
        c.hog.request_timeout = Duration::from_secs(60);
    }))
    .await;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let body = r#"{"ms": 50000}"#;
    let request = format!(
        "POST /hog/sleep HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{body}",
        server.addr,
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    server.wait_for("hog", "in_use", 1).await;
    drop(stream);
    // The server notices, drops the request, and the call is aborted.
    server.wait_for("hog", "discarded", 1).await;
    assert_eq!(server.metrics("hog").await["in_use"], 0);
    assert_eq!(
        server.post("/hog/add-one", json!({ "x": 1 })).await.json()["result"],
        2
    );
}

// ANCHOR: isolation
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_plugin_does_not_affect_good_requests() {
    let server = start(config(|c| {
        c.hog.max_instances = 4;
        c.hog.preload_instances = 4;
        c.hog.cpu_timeout = Duration::from_secs(4);
        // The hog's good requests queue for its one free instance.
        c.hog.checkout_timeout = Duration::from_secs(10);
        c.hog.request_timeout = Duration::from_secs(20);
    }))
    .await;
    // Three hog instances spin until their deadline...
    let spinning: Vec<_> = (0..3)
        .map(|_| {
            let addr = server.addr;
            tokio::spawn(async move { Server { addr }.post("/hog/spin", json!({})).await })
        })
        .collect();
    server.wait_for("hog", "checkouts", 3).await;
    // ...while good requests keep coming, on other routes and on the
    // hog's fourth instance, next to requests that blow the memory limit.
    let mut good = Vec::new();
    for i in 0..24 {
        let addr = server.addr;
        good.push(tokio::spawn(async move {
            let server = Server { addr };
            match i % 4 {
                0 => {
                    let reply = server
                        .post("/greet", json!({ "name": format!("user {i}") }))
                        .await;
                    assert_eq!(reply.status, 200, "{reply:?}");
                    assert_eq!(reply.json()["greeting"], format!("Hello, user {i}!"));
                }
                1 => {
                    let reply = server
                        .post(
                            "/filter",
                            json!({ "title": "T", "lines": [format!("line {i}")] }),
                        )
                        .await;
                    assert_eq!(reply.status, 200, "{reply:?}");
                    assert_eq!(reply.json()["lines"], json!([format!("line {i}")]));
                }
                2 => {
                    let reply = server.post("/hog/add-one", json!({ "x": i })).await;
                    assert_eq!(reply.status, 200, "{reply:?}");
                    assert_eq!(reply.json()["result"], i + 1);
                }
                _ => {
                    let reply = server.post("/hog/grow-memory", json!({})).await;
                    assert_eq!(reply.error(507).0, "memory_limit");
                }
            }
        }));
    }
    for task in good {
        task.await.expect("every good request got its answer");
    }
    for task in spinning {
        let reply = task.await.unwrap();
        assert_eq!(reply.error(504).0, "time_limit");
    }
    let m = server.metrics("hog").await;
    assert_eq!(m["in_use"], 0, "{m}");
    assert!(m["discarded"].as_u64().unwrap() >= 3 + 6, "{m}");
    assert_eq!(server.metrics("greeter").await["timeouts"], 0);
}
// ANCHOR_END: isolation
