//! Samples and their summary (min / median / max), and the baseline comparison of `--quick`.

use std::collections::BTreeMap;

/// Repeated measurements of one quantity (milliseconds, or megabytes for memory).
#[derive(Debug, Clone, Default)]
pub struct Samples(Vec<f64>);

impl Samples {
    /// Adds a measurement.
    pub fn push(&mut self, v: f64) {
        self.0.push(v);
    }

    /// How many measurements.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    fn sorted(&self) -> Vec<f64> {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        v
    }

    /// The smallest measurement (NaN when empty).
    pub fn min(&self) -> f64 {
        self.sorted().first().copied().unwrap_or(f64::NAN)
    }

    /// The largest measurement (NaN when empty).
    pub fn max(&self) -> f64 {
        self.sorted().last().copied().unwrap_or(f64::NAN)
    }

    /// The median (mean of the middle two for an even count; NaN when empty).
    pub fn median(&self) -> f64 {
        let v = self.sorted();
        match v.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        }
    }
}

/// A ratio row that regressed: its key, the measured ratio and the baseline's.
#[derive(Debug, Clone, PartialEq)]
pub struct Regression {
    /// Row key, e.g. `token-cached-vs-cat`.
    pub key: String,
    /// Ratio measured now.
    pub ratio: f64,
    /// Ratio in the baseline.
    pub baseline: f64,
}

/// The ratios of `measured` that are more than `factor` times their baseline. A ratio
/// missing from the baseline is not compared; a baseline row not measured is an error
/// (the check would silently stop checking it).
pub fn regressions(
    measured: &BTreeMap<String, f64>,
    baseline: &BTreeMap<String, f64>,
    factor: f64,
) -> Result<Vec<Regression>, String> {
    if let Some(missing) = baseline.keys().find(|k| !measured.contains_key(*k)) {
        return Err(format!(
            "the baseline has row `{missing}`, which this run did not measure"
        ));
    }
    Ok(measured
        .iter()
        .filter_map(|(k, &ratio)| {
            let base = *baseline.get(k)?;
            (!ratio.is_finite() || ratio > factor * base).then(|| Regression {
                key: k.clone(),
                ratio,
                baseline: base,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(v: &[f64]) -> Samples {
        let mut s = Samples::default();
        for x in v {
            s.push(*x);
        }
        s
    }

    #[test]
    fn summary_of_odd_even_and_empty() {
        let s = samples(&[5.0, 1.0, 3.0]);
        assert_eq!((s.min(), s.median(), s.max()), (1.0, 3.0, 5.0));
        assert_eq!(samples(&[4.0, 1.0, 2.0, 10.0]).median(), 3.0);
        assert!(Samples::default().median().is_nan());
    }

    #[test]
    fn regression_is_more_than_twice_the_baseline() {
        let base: BTreeMap<String, f64> = [("a".to_string(), 2.0), ("b".to_string(), 1.0)].into();
        let ok: BTreeMap<String, f64> = [("a".to_string(), 4.0), ("b".to_string(), 0.5)].into();
        assert!(regressions(&ok, &base, 2.0).expect("compared").is_empty());
        let bad: BTreeMap<String, f64> = [("a".to_string(), 4.1), ("b".to_string(), f64::NAN)].into();
        let r = regressions(&bad, &base, 2.0).expect("compared");
        assert_eq!(r.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        let partial: BTreeMap<String, f64> = [("a".to_string(), 1.0)].into();
        assert!(regressions(&partial, &base, 2.0).is_err());
    }
}
