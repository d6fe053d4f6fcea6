//! The circuit breaker in front of Factus.
//!
//! When Factus is down, every request would otherwise wait for its timeout and pile up; the
//! breaker answers at once instead. Only failures that say "Factus is not well" count: connection
//! errors, timeouts and 5xx. A 4xx is Factus working as intended and counts as a success.
//!
//! Closed → (5 failures in a row, or ≥ 50 % of the last 20) → Open → (30 s) → HalfOpen, where one
//! probe goes through: its success closes the breaker, its failure opens it again.
//!
//! The state is published as the gauge `factus_circuit_state` (0 closed, 1 open, 2 half-open).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Instant;

use factus_application::factus::CircuitState;

use super::config::BreakerPolicy;

const STATE_GAUGE: &str = "factus_circuit_state";

#[derive(Debug)]
pub(crate) struct CircuitBreaker {
    policy: BreakerPolicy,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    mode: Mode,
    consecutive_failures: u32,
    /// Outcomes of the last `policy.window` calls while closed; `true` is a failure.
    recent: VecDeque<bool>,
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    Closed,
    Open { until: Instant },
    HalfOpen { probing: bool },
}

/// Leave to make one call. Report its outcome with [`Permit::success`] or [`Permit::failure`];
/// a permit dropped without either (the call was cancelled, or failed in a way that says nothing
/// about Factus) counts for nothing, and frees the half-open probe slot.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    breaker: &'a CircuitBreaker,
    probe: bool,
    reported: bool,
}

impl Permit<'_> {
    pub(crate) fn success(mut self) {
        self.reported = true;
        self.breaker.on_success(self.probe);
    }

    pub(crate) fn failure(mut self) {
        self.reported = true;
        self.breaker.on_failure(self.probe);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.reported && self.probe {
            self.breaker.release_probe();
        }
    }
}

impl CircuitBreaker {
    pub(crate) fn new(policy: BreakerPolicy) -> Self {
        publish(CircuitState::Closed);
        Self {
            policy,
            inner: Mutex::new(Inner {
                mode: Mode::Closed,
                consecutive_failures: 0,
                recent: VecDeque::with_capacity(policy.window),
            }),
        }
    }

    /// Leave to call Factus, or `None` while the breaker is open (or half-open with its probe
    /// already in flight).
    pub(crate) fn acquire(&self) -> Option<Permit<'_>> {
        let mut inner = self.lock();
        let probe = match inner.mode {
            Mode::Closed => false,
            Mode::Open { until } if Instant::now() >= until => {
                inner.mode = Mode::HalfOpen { probing: true };
                publish(CircuitState::HalfOpen);
                tracing::info!("factus circuit half-open: letting one probe through");
                true
            }
            Mode::Open { .. } | Mode::HalfOpen { probing: true } => return None,
            Mode::HalfOpen { probing: false } => {
                inner.mode = Mode::HalfOpen { probing: true };
                true
            }
        };
        Some(Permit { breaker: self, probe, reported: false })
    }

    /// The state now; an open breaker whose interval has passed reads as half-open.
    pub(crate) fn state(&self) -> CircuitState {
        match self.lock().mode {
            Mode::Closed => CircuitState::Closed,
            Mode::Open { until } if Instant::now() < until => CircuitState::Open,
            Mode::Open { .. } | Mode::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }

    fn on_success(&self, probe: bool) {
        let mut inner = self.lock();
        match inner.mode {
            Mode::HalfOpen { .. } if probe => {
                inner.mode = Mode::Closed;
                inner.consecutive_failures = 0;
                inner.recent.clear();
                publish(CircuitState::Closed);
                tracing::info!("factus circuit closed: the probe succeeded");
            }
            Mode::Closed => {
                inner.consecutive_failures = 0;
                self.remember(&mut inner, false);
            }
            // A call that started before the breaker opened says nothing about Factus now.
            Mode::Open { .. } | Mode::HalfOpen { .. } => {}
        }
    }

    fn on_failure(&self, probe: bool) {
        let mut inner = self.lock();
        match inner.mode {
            Mode::HalfOpen { .. } if probe => {
                self.open(&mut inner);
                tracing::warn!("factus circuit reopened: the probe failed");
            }
            Mode::Closed => {
                inner.consecutive_failures += 1;
                self.remember(&mut inner, true);
                let failures = inner.recent.iter().filter(|failed| **failed).count();
                let window_full = inner.recent.len() >= self.policy.window.max(1);
                let rate_exceeded =
                    window_full && failures * 100 >= self.policy.failure_rate_percent as usize * inner.recent.len();
                if inner.consecutive_failures >= self.policy.consecutive_failures.max(1) || rate_exceeded {
                    tracing::warn!(
                        consecutive_failures = inner.consecutive_failures,
                        recent_failures = failures,
                        recent_calls = inner.recent.len(),
                        open_for_ms = self.policy.open_for.as_millis(),
                        "factus circuit opened: calls are refused without reaching Factus"
                    );
                    self.open(&mut inner);
                }
            }
            Mode::Open { .. } | Mode::HalfOpen { .. } => {}
        }
    }

    fn release_probe(&self) {
        let mut inner = self.lock();
        if let Mode::HalfOpen { probing: true } = inner.mode {
            inner.mode = Mode::HalfOpen { probing: false };
        }
    }

    fn open(&self, inner: &mut Inner) {
        inner.mode = Mode::Open { until: Instant::now() + self.policy.open_for };
        inner.consecutive_failures = 0;
        inner.recent.clear();
        publish(CircuitState::Open);
    }

    fn remember(&self, inner: &mut Inner, failed: bool) {
        if inner.recent.len() >= self.policy.window.max(1) {
            inner.recent.pop_front();
        }
        inner.recent.push_back(failed);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The state is a few plain fields updated together; a panic elsewhere cannot leave it
        // half-written, so a poisoned lock is still safe to use.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn publish(state: CircuitState) {
    let value = match state {
        CircuitState::Closed => 0.0,
        CircuitState::Open => 1.0,
        CircuitState::HalfOpen => 2.0,
    };
    metrics::gauge!(STATE_GAUGE).set(value);
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use metrics::{
        Counter, CounterFn, Gauge, GaugeFn, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
    };

    use super::*;

    fn policy(open_for: Duration) -> BreakerPolicy {
        BreakerPolicy { consecutive_failures: 5, failure_rate_percent: 50, window: 20, open_for }
    }

    fn fail(breaker: &CircuitBreaker, times: usize) {
        for _ in 0..times {
            breaker.acquire().expect("closed").failure();
        }
    }

    fn succeed(breaker: &CircuitBreaker, times: usize) {
        for _ in 0..times {
            breaker.acquire().expect("closed").success();
        }
    }

    /// A breaker that five failures opened, once its open interval (20 ms) has passed.
    fn opened_and_waited_out() -> CircuitBreaker {
        let breaker = CircuitBreaker::new(policy(Duration::from_millis(20)));
        fail(&breaker, 5);
        std::thread::sleep(Duration::from_millis(30));
        breaker
    }

    #[test]
    fn five_failures_in_a_row_open_the_breaker() {
        let breaker = CircuitBreaker::new(policy(Duration::from_secs(30)));
        fail(&breaker, 4);
        assert_eq!(breaker.state(), CircuitState::Closed);

        fail(&breaker, 1);

        assert_eq!(breaker.state(), CircuitState::Open);
        assert!(breaker.acquire().is_none());
    }

    #[test]
    fn a_success_resets_the_run_of_failures() {
        let breaker = CircuitBreaker::new(policy(Duration::from_secs(30)));
        fail(&breaker, 4);
        succeed(&breaker, 1);
        fail(&breaker, 4);

        assert_eq!(breaker.state(), CircuitState::Closed);
    }

    #[test]
    fn half_of_the_last_twenty_calls_failing_opens_the_breaker() {
        let breaker = CircuitBreaker::new(policy(Duration::from_secs(30)));
        // Alternating never makes five in a row; after 19 calls 9 have failed.
        for _ in 0..9 {
            fail(&breaker, 1);
            succeed(&breaker, 1);
        }
        succeed(&breaker, 1);
        assert_eq!(breaker.state(), CircuitState::Closed);

        // The 20th call brings the failures to 10 of 20.
        fail(&breaker, 1);

        assert_eq!(breaker.state(), CircuitState::Open);
    }

    #[test]
    fn after_the_open_interval_one_probe_goes_through_and_its_success_closes() {
        let breaker = opened_and_waited_out();
        assert_eq!(breaker.state(), CircuitState::HalfOpen);

        let probe = breaker.acquire().expect("the probe is let through");
        assert!(breaker.acquire().is_none(), "only one probe at a time");
        probe.success();

        assert_eq!(breaker.state(), CircuitState::Closed);
        assert!(breaker.acquire().is_some());
    }

    #[test]
    fn a_failed_probe_opens_the_breaker_again() {
        let breaker = opened_and_waited_out();

        breaker.acquire().expect("probe").failure();

        assert_eq!(breaker.state(), CircuitState::Open);
    }

    #[test]
    fn an_abandoned_probe_frees_the_slot_for_the_next_one() {
        let breaker = opened_and_waited_out();

        drop(breaker.acquire().expect("probe"));

        assert!(breaker.acquire().is_some());
    }

    /// Records the last value of every gauge, for the state-gauge test.
    #[derive(Default)]
    struct GaugeRecorder {
        values: Arc<Mutex<Vec<f64>>>,
    }

    struct RecordedGauge(Arc<Mutex<Vec<f64>>>);

    impl GaugeFn for RecordedGauge {
        fn increment(&self, _: f64) {}
        fn decrement(&self, _: f64) {}
        fn set(&self, value: f64) {
            self.0.lock().expect("lock").push(value);
        }
    }

    struct NoCounter;
    impl CounterFn for NoCounter {
        fn increment(&self, _: u64) {}
        fn absolute(&self, _: u64) {}
    }

    impl Recorder for GaugeRecorder {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
            Counter::from_arc(Arc::new(NoCounter))
        }
        fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
            assert_eq!(key.name(), STATE_GAUGE);
            Gauge::from_arc(Arc::new(RecordedGauge(Arc::clone(&self.values))))
        }
        fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
            Histogram::noop()
        }
    }

    #[test]
    fn every_transition_is_published_on_the_state_gauge() {
        let recorder = GaugeRecorder::default();
        let values = Arc::clone(&recorder.values);

        metrics::with_local_recorder(&recorder, || {
            let breaker = CircuitBreaker::new(policy(Duration::from_millis(20)));
            fail(&breaker, 5);
            std::thread::sleep(Duration::from_millis(30));
            breaker.acquire().expect("probe").success();
        });

        assert_eq!(*values.lock().expect("lock"), vec![0.0, 1.0, 2.0, 0.0]);
    }
}
