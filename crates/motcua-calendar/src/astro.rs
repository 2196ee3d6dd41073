//! The two astronomical quantities the Vietnamese lunar calendar needs: the instant of each new
//! moon and the sun's apparent longitude. Written from Jean Meeus, *Astronomical Algorithms*
//! (2nd ed., 1998): chapter 49 (phases of the moon, with all periodic and planetary terms),
//! chapter 25 (solar coordinates, low accuracy, with the nutation/aberration correction), and
//! the Espenak–Meeus polynomials for ΔT = TT − UT.

use std::f64::consts::PI;

/// Julian day of 1970-01-01T00:00Z.
pub const JD_UNIX_EPOCH: f64 = 2_440_587.5;

fn sin_deg(x: f64) -> f64 {
    (x * PI / 180.0).sin()
}

/// ΔT = TT − UT in days, for a decimal year (Espenak & Meeus, valid 1900–2200 in the pieces used).
pub fn delta_t_days(year: f64) -> f64 {
    let seconds = if year < 1920.0 {
        let t = year - 1900.0;
        -2.79 + 1.494119 * t - 0.0598939 * t.powi(2) + 0.0061966 * t.powi(3) - 0.000197 * t.powi(4)
    } else if year < 1941.0 {
        let t = year - 1920.0;
        21.20 + 0.84493 * t - 0.076100 * t.powi(2) + 0.0020936 * t.powi(3)
    } else if year < 1961.0 {
        let t = year - 1950.0;
        29.07 + 0.407 * t - t.powi(2) / 233.0 + t.powi(3) / 2547.0
    } else if year < 1986.0 {
        let t = year - 1975.0;
        45.45 + 1.067 * t - t.powi(2) / 260.0 - t.powi(3) / 718.0
    } else if year < 2005.0 {
        let t = year - 2000.0;
        63.86 + 0.3345 * t - 0.060374 * t.powi(2)
            + 0.0017275 * t.powi(3)
            + 0.000651814 * t.powi(4)
            + 0.00002373599 * t.powi(5)
    } else if year < 2050.0 {
        let t = year - 2000.0;
        62.92 + 0.32217 * t + 0.005589 * t.powi(2)
    } else if year < 2150.0 {
        let u = (year - 1820.0) / 100.0;
        -20.0 + 32.0 * u * u - 0.5628 * (2150.0 - year)
    } else {
        let u = (year - 1820.0) / 100.0;
        -20.0 + 32.0 * u * u
    };
    seconds / 86_400.0
}

fn decimal_year(jd: f64) -> f64 {
    2000.0 + (jd - 2_451_545.0) / 365.25
}

/// The instant (Julian day, UT) of new moon number `k` (k = 0 is the new moon of 2000-01-06).
/// Meeus ch. 49; accuracy of the order of a minute over 1900–2200, dominated by ΔT.
pub fn new_moon_jd_ut(k: i64) -> f64 {
    let k = k as f64;
    let t = k / 1236.85;
    let (t2, t3, t4) = (t * t, t * t * t, t * t * t * t);
    let mut jde = 2451550.09766 + 29.530588861 * k + 0.00015437 * t2 - 0.000000150 * t3 + 0.00000000073 * t4;
    let e = 1.0 - 0.002516 * t - 0.0000074 * t2;
    let m = 2.5534 + 29.10535670 * k - 0.0000014 * t2 - 0.00000011 * t3;
    let mp = 201.5643 + 385.81693528 * k + 0.0107582 * t2 + 0.00001238 * t3 - 0.000000058 * t4;
    let f = 160.7108 + 390.67050284 * k - 0.0016118 * t2 - 0.00000227 * t3 + 0.000000011 * t4;
    let om = 124.7746 - 1.56375588 * k + 0.0020672 * t2 + 0.00000215 * t3;

    jde += -0.40720 * sin_deg(mp)
        + 0.17241 * e * sin_deg(m)
        + 0.01608 * sin_deg(2.0 * mp)
        + 0.01039 * sin_deg(2.0 * f)
        + 0.00739 * e * sin_deg(mp - m)
        - 0.00514 * e * sin_deg(mp + m)
        + 0.00208 * e * e * sin_deg(2.0 * m)
        - 0.00111 * sin_deg(mp - 2.0 * f)
        - 0.00057 * sin_deg(mp + 2.0 * f)
        + 0.00056 * e * sin_deg(2.0 * mp + m)
        - 0.00042 * sin_deg(3.0 * mp)
        + 0.00042 * e * sin_deg(m + 2.0 * f)
        + 0.00038 * e * sin_deg(m - 2.0 * f)
        - 0.00024 * e * sin_deg(2.0 * mp - m)
        - 0.00017 * sin_deg(om)
        - 0.00007 * sin_deg(mp + 2.0 * m)
        + 0.00004 * sin_deg(2.0 * mp - 2.0 * f)
        + 0.00004 * sin_deg(3.0 * m)
        + 0.00003 * sin_deg(mp + m - 2.0 * f)
        + 0.00003 * sin_deg(2.0 * mp + 2.0 * f)
        - 0.00003 * sin_deg(mp + m + 2.0 * f)
        + 0.00003 * sin_deg(mp - m + 2.0 * f)
        - 0.00002 * sin_deg(mp - m - 2.0 * f)
        - 0.00002 * sin_deg(3.0 * mp + m)
        + 0.00002 * sin_deg(4.0 * mp);

    // Planetary arguments (Meeus table 49.B).
    let planetary: [(f64, f64, f64, f64); 14] = [
        (0.000325, 299.77, 0.107408, -0.009173),
        (0.000165, 251.88, 0.016321, 0.0),
        (0.000164, 251.83, 26.651886, 0.0),
        (0.000126, 349.42, 36.412478, 0.0),
        (0.000110, 84.66, 18.206239, 0.0),
        (0.000062, 141.74, 53.303771, 0.0),
        (0.000060, 207.14, 2.453732, 0.0),
        (0.000056, 154.84, 7.306860, 0.0),
        (0.000047, 34.52, 27.261239, 0.0),
        (0.000042, 207.19, 0.121824, 0.0),
        (0.000040, 291.34, 1.844379, 0.0),
        (0.000037, 161.72, 24.198154, 0.0),
        (0.000035, 239.56, 25.513099, 0.0),
        (0.000023, 331.55, 3.592518, 0.0),
    ];
    for (coef, a0, a1, a2) in planetary {
        jde += coef * sin_deg(a0 + a1 * k + a2 * t2);
    }
    jde - delta_t_days(decimal_year(jde))
}

/// The sun's apparent geocentric longitude in degrees, 0 ≤ λ < 360, at Julian day `jd_ut` (UT).
/// Meeus ch. 25, low accuracy (about 0.01°, i.e. about a quarter of an hour of solar motion).
pub fn sun_longitude_deg(jd_ut: f64) -> f64 {
    let jde = jd_ut + delta_t_days(decimal_year(jd_ut));
    let t = (jde - 2_451_545.0) / 36_525.0;
    let l0 = 280.46646 + 36000.76983 * t + 0.0003032 * t * t;
    let m = 357.52911 + 35999.05029 * t - 0.0001537 * t * t;
    let c = (1.914602 - 0.004817 * t - 0.000014 * t * t) * sin_deg(m)
        + (0.019993 - 0.000101 * t) * sin_deg(2.0 * m)
        + 0.000289 * sin_deg(3.0 * m);
    let omega = 125.04 - 1934.136 * t;
    let lambda = l0 + c - 0.00569 - 0.00478 * sin_deg(omega);
    lambda.rem_euclid(360.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meeus_example_49a() {
        // Meeus example 49.a: the new moon of 1977 February (k = -283) at JDE 2443192.65118.
        let jd_ut = new_moon_jd_ut(-283);
        let jde = jd_ut + delta_t_days(1977.1);
        assert!((jde - 2_443_192.651_18).abs() < 0.0005, "{jde}");
    }

    #[test]
    fn meeus_example_25a() {
        // Meeus example 25.a: 1992 October 13.0 TD, apparent longitude 199.90895°.
        let jde = 2_448_908.5;
        let lambda = sun_longitude_deg(jde - delta_t_days(1992.8));
        assert!((lambda - 199.908_95).abs() < 0.01, "{lambda}");
    }
}
