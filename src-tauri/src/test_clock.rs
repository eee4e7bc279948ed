//! Debug builds only: a clock that starts at `$TILLKEY_TEST_NOW` and runs on, so the
//! end-to-end tests can put the app at any date. Absent from release builds.

use chrono::{DateTime, Utc};
use tillkey_core::Clock;

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
    }
}
