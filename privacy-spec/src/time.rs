//! Calendar arithmetic and RFC 3339 parsing, shared by the guidelines file and the runtime's
//! timestamps.

/// Days since the Unix epoch of a proleptic Gregorian date.
pub const fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Milliseconds since the Unix epoch of an RFC 3339 time (`2023-07-11T08:00:00Z`,
/// `2023-07-11T16:00:00+08:00`, fractional seconds allowed) or a bare date (`2023-07-11`,
/// midnight UTC).
pub fn parse_rfc3339_millis(s: &str) -> Option<i64> {
    let num =
        |t: &str| -> Option<u32> { (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse().ok())? };
    let (date, rest) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut d = date.splitn(3, '-');
    let (year, month, day) = (num(d.next()?)?, num(d.next()?)?, num(d.next()?)?);
    let dim = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    if day == 0 || day > dim {
        return None;
    }
    let base = days_from_civil(i64::from(year), month, day) * 86_400_000;
    let Some(rest) = rest else { return Some(base) };
    let (time, offset_ms) = if let Some(t) = rest.strip_suffix(['Z', 'z']) {
        (t, 0)
    } else {
        let i = rest.rfind(['+', '-'])?;
        let (t, off) = rest.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off[1..].split_once(':')?;
        let (oh, om) = (num(oh)?, num(om)?);
        if oh > 23 || om > 59 {
            return None;
        }
        (t, sign * (i64::from(oh) * 3600 + i64::from(om) * 60) * 1000)
    };
    let (hms, frac) = match time.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (time, None),
    };
    let mut t = hms.splitn(3, ':');
    let (h, mi, sec) = (num(t.next()?)?, num(t.next()?)?, num(t.next()?)?);
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let ms = match frac {
        Some(f) => {
            num(f)?;
            let digits: String = f.chars().chain("000".chars()).take(3).collect();
            i64::from(num(&digits)?)
        }
        None => 0,
    };
    let secs = i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(sec);
    Some(base + secs * 1000 + ms - offset_ms)
}
