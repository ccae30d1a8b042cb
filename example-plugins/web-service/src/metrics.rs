//! `GET /metrics`: each route's `PoolMetrics`, as JSON or in the Prometheus
//! text format.

use std::fmt::Write;

use serde::Serialize;
use wasm_sandbox::{PoolMetrics, SandboxPool};

/// One route's pool counters, as served by `GET /metrics`.
#[derive(Debug, Serialize)]
pub(crate) struct RouteMetrics {
    route: String,
    max_instances: usize,
    in_use: usize,
    idle: usize,
    created: u64,
    discarded: u64,
    checkouts: u64,
    waits: u64,
    total_wait_ms: f64,
    timeouts: u64,
}

impl RouteMetrics {
    pub(crate) fn of(route: &str, pool: &SandboxPool) -> RouteMetrics {
        let PoolMetrics {
            in_use,
            idle,
            created,
            discarded,
            checkouts,
            waits,
            total_wait,
            timeouts,
            ..
        } = pool.metrics();
        RouteMetrics {
            route: route.to_string(),
            max_instances: pool.max_instances(),
            in_use,
            idle,
            created,
            discarded,
            checkouts,
            waits,
            total_wait_ms: total_wait.as_secs_f64() * 1000.0,
            timeouts,
        }
    }
}

/// The Prometheus text exposition of `routes`: one gauge or counter per
/// pool figure, labelled with the route.
pub(crate) fn prometheus(routes: &[RouteMetrics]) -> String {
    type Figure = fn(&RouteMetrics) -> f64;
    let figures: [(&str, &str, &str, Figure); 9] = [
        (
            "max_instances",
            "gauge",
            "The most instances the route's pool holds.",
            |m| m.max_instances as f64,
        ),
        ("in_use", "gauge", "Instances running a call now.", |m| {
            m.in_use as f64
        }),
        ("idle", "gauge", "Instances waiting for a call.", |m| {
            m.idle as f64
        }),
        ("created_total", "counter", "Instances created.", |m| {
            m.created as f64
        }),
        (
            "discarded_total",
            "counter",
            "Instances discarded after a trap, a limit hit, a cancelled call or a fresh-instance call.",
            |m| m.discarded as f64,
        ),
        (
            "checkouts_total",
            "counter",
            "Calls that got an instance.",
            |m| m.checkouts as f64,
        ),
        (
            "waits_total",
            "counter",
            "Calls that found every instance busy and waited.",
            |m| m.waits as f64,
        ),
        (
            "wait_seconds_total",
            "counter",
            "Time calls spent waiting for an instance.",
            |m| m.total_wait_ms / 1000.0,
        ),
        (
            "timeouts_total",
            "counter",
            "Calls that gave up waiting for an instance.",
            |m| m.timeouts as f64,
        ),
    ];
    let mut out = String::new();
    for (name, kind, help, value) in figures {
        let _ = writeln!(out, "# HELP wasm_sandbox_pool_{name} {help}");
        let _ = writeln!(out, "# TYPE wasm_sandbox_pool_{name} {kind}");
        for m in routes {
            let _ = writeln!(
                out,
                "wasm_sandbox_pool_{name}{{route=\"{}\"}} {}",
                m.route,
                value(m)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text_has_a_line_per_route_and_figure() {
        let routes = [
            RouteMetrics {
                route: "greeter".into(),
                max_instances: 8,
                in_use: 1,
                idle: 2,
                created: 3,
                discarded: 0,
                checkouts: 10,
                waits: 0,
                total_wait_ms: 0.0,
                timeouts: 0,
            },
            RouteMetrics {
                route: "hog".into(),
                max_instances: 4,
                in_use: 0,
                idle: 1,
                created: 5,
                discarded: 4,
                checkouts: 6,
                waits: 2,
                total_wait_ms: 1500.0,
                timeouts: 1,
            },
        ];
        let text = prometheus(&routes);
        assert!(text.contains("# TYPE wasm_sandbox_pool_in_use gauge\n"));
        assert!(text.contains("wasm_sandbox_pool_checkouts_total{route=\"greeter\"} 10\n"));
        assert!(text.contains("wasm_sandbox_pool_discarded_total{route=\"hog\"} 4\n"));
        assert!(text.contains("wasm_sandbox_pool_wait_seconds_total{route=\"hog\"} 1.5\n"));
        let samples = text.lines().filter(|l| !l.starts_with('#')).count();
        assert_eq!(samples, 9 * 2);
    }
}
