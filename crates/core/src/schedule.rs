//! Rotation status: ok, due soon (inside the reminder lead time) or overdue. Pure date
//! arithmetic on the record's numbers, so the vault can report it without the rotation
//! engine.

use crate::dto::{RotationInfo, RotationStatus};
use chrono::{DateTime, Duration, Utc};

/// Default rotation period (the providers recommend 90 days).
pub const DEFAULT_PERIOD_DAYS: u32 = 90;
/// Default reminder lead time.
pub const DEFAULT_LEAD_DAYS: u32 = 14;

/// Rotation status of a secret last rotated at `rotated_at`, `now`.
///
/// `days_left` counts days started while due (36 hours left is 2, an hour is 1, right now
/// is 0) and whole days elapsed once overdue (an hour overdue is -1, 5 days and an hour -5).
///
/// Total over every input: a date past the calendar's end saturates instead of panicking
/// (loaders range-check these numbers, but the arithmetic does not rely on that).
pub fn status(rotated_at: DateTime<Utc>, period_days: u32, lead_days: u32, now: DateTime<Utc>) -> RotationInfo {
    let due_at = rotated_at
        .checked_add_signed(Duration::days(i64::from(period_days)))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let left = due_at - now;
    let started_days = |d: Duration| (d + Duration::days(1) - Duration::nanoseconds(1)).num_days();
    // Due: days started ("due in 1 day" with an hour left). Overdue: whole days elapsed, at
    // least one ("overdue by 5 days" from day 95 until day 96).
    let days_left = if left >= Duration::zero() {
        started_days(left)
    } else {
        -((-left).num_days().max(1))
    };
    let status = if left < Duration::zero() {
        RotationStatus::Overdue
    } else if left <= Duration::days(i64::from(lead_days)) {
        RotationStatus::DueSoon
    } else {
        RotationStatus::Ok
    };
    RotationInfo {
        status,
        due_at,
        days_left,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn fresh_secret_is_ok() {
        let r = status(t0(), 90, 14, t0());
        assert_eq!(r.status, RotationStatus::Ok);
        assert_eq!(r.days_left, 90);
    }

    #[test]
    fn rotated_85_days_ago_is_due_soon_in_5_days() {
        let r = status(t0(), 90, 14, t0() + Duration::days(85));
        assert_eq!(r.status, RotationStatus::DueSoon);
        assert_eq!(r.days_left, 5);
    }

    #[test]
    fn lead_time_boundary_is_inclusive() {
        assert_eq!(
            status(t0(), 90, 14, t0() + Duration::days(76)).status,
            RotationStatus::DueSoon
        );
        assert_eq!(
            status(t0(), 90, 14, t0() + Duration::days(76) - Duration::seconds(1)).status,
            RotationStatus::Ok
        );
    }

    #[test]
    fn rotated_95_days_ago_is_overdue_by_5_days() {
        let r = status(t0(), 90, 14, t0() + Duration::days(95));
        assert_eq!(r.status, RotationStatus::Overdue);
        assert_eq!(r.days_left, -5);
        let r = status(t0(), 90, 14, t0() + Duration::days(90) + Duration::hours(1));
        assert_eq!(r.status, RotationStatus::Overdue);
        assert_eq!(r.days_left, -1);
        let r = status(t0(), 90, 14, t0() + Duration::days(95) + Duration::seconds(30));
        assert_eq!(r.days_left, -5);
    }

    #[test]
    fn a_day_started_counts_as_a_day() {
        let r = status(t0(), 90, 14, t0() + Duration::hours(1));
        assert_eq!(r.days_left, 90);
        let r = status(t0(), 90, 14, t0() + Duration::days(90) - Duration::hours(1));
        assert_eq!(r.days_left, 1);
    }

    #[test]
    fn extreme_numbers_do_not_panic() {
        let r = status(DateTime::<Utc>::MAX_UTC, u32::MAX, u32::MAX, t0());
        assert_eq!(r.status, RotationStatus::DueSoon);
        let r = status(DateTime::<Utc>::MIN_UTC, 0, 0, DateTime::<Utc>::MAX_UTC);
        assert_eq!(r.status, RotationStatus::Overdue);
    }

    #[test]
    fn due_exactly_now_is_due_soon_with_zero_days() {
        let r = status(t0(), 90, 14, t0() + Duration::days(90));
        assert_eq!(r.status, RotationStatus::DueSoon);
        assert_eq!(r.days_left, 0);
    }
}
