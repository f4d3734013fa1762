//! "Did you mean" suggestions for misspelt identifiers.

/// Levenshtein distance between two strings, counted in chars.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `input`, if one is close enough to be a plausible typo.
///
/// Comparison ignores ASCII case and treats `-` as `_`, so `"Phone-Number"` suggests
/// `phone_number`. A candidate qualifies when its distance is at most a third of its length
/// (at least 2), or when one string contains the other.
pub fn closest<'a, I>(input: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let norm = |s: &str| s.to_ascii_lowercase().replace('-', "_");
    let needle = norm(input);
    let mut best: Option<(usize, &'a str)> = None;
    for cand in candidates {
        let c = norm(cand);
        let d = edit_distance(&needle, &c);
        let limit = (c.len() / 3).max(2);
        let contains = needle.len() >= 3 && (c.contains(&needle) || needle.contains(&c));
        if (d <= limit || contains) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn suggests_near_misses_only() {
        let ids = ["location", "chosen_location", "phone_number", "werun"];
        assert_eq!(closest("locaton", ids), Some("location"));
        assert_eq!(closest("Phone-Number", ids), Some("phone_number"));
        assert_eq!(closest("phone", ids), Some("phone_number"));
        assert_eq!(closest("zzzzzzzz", ids), None);
    }
}
