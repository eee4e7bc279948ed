//! The clock seam: production code asks a [`Clock`] for "now", tests pin it.

use chrono::{DateTime, Utc};
use std::sync::Mutex;

/// Source of the current time. Expiry and rotation logic never calls `Utc::now()` directly.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told to move: makes expiry and rotation tests exact.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    /// A clock pinned at `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Mutex::new(at))
    }

    /// Moves the clock to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The system clock shifted by a fixed offset: time runs, but from another starting point.
///
/// Front ends use it, in test builds only, to show what the app does on another day
/// (reminders, countdowns) while tokens still expire in real time relative to each other.
#[derive(Debug, Clone, Copy)]
pub struct OffsetClock {
    offset: chrono::Duration,
}

impl OffsetClock {
    /// A clock `offset` ahead of the system clock (behind, if negative).
    pub fn new(offset: chrono::Duration) -> Self {
        Self { offset }
    }

    /// A clock that reads `at` now and runs on from there.
    pub fn starting_at(at: DateTime<Utc>) -> Self {
        Self::new(at - Utc::now())
    }

    /// How far it is from the system clock.
    pub fn offset(&self) -> chrono::Duration {
        self.offset
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn offset_clock_starts_where_told_and_runs() {
        let at = Utc.with_ymd_and_hms(2030, 6, 1, 8, 0, 0).unwrap();
        let c = OffsetClock::starting_at(at);
        let first = c.now();
        assert!((first - at).num_seconds().abs() < 5, "{first} vs {at}");
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(c.now() > first, "it runs");
    }

    #[test]
    fn offset_clock_adds_its_offset() {
        let c = OffsetClock::new(Duration::days(3));
        let d = c.now() - Utc::now();
        assert!(
            d > Duration::days(3) - Duration::seconds(5) && d <= Duration::days(3),
            "{d}"
        );
        assert_eq!(c.offset(), Duration::days(3));
    }

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let c = FixedClock::new(at);
        assert_eq!(c.now(), at);
        c.advance(Duration::hours(2));
        assert_eq!(c.now(), at + Duration::hours(2));
    }
}
