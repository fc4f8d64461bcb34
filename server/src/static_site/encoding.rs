//! Picks the precompressed sibling (`.br`, `.gz`) the client accepts, by `Accept-Encoding`
//! q-values (RFC 9110 §12.5.3).
use axum::http::HeaderValue;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

impl Encoding {
    pub fn header_value(self) -> Option<HeaderValue> {
        match self {
            Encoding::Brotli => Some(HeaderValue::from_static("br")),
            Encoding::Gzip => Some(HeaderValue::from_static("gzip")),
            Encoding::Identity => None,
        }
    }
}

/// The best encoding among those the file has, for this `Accept-Encoding`.
///
/// Ties go to the smaller representation (br, then gzip, then identity). Identity stays
/// acceptable unless the client refuses it explicitly; if it refuses everything we still send
/// identity, which RFC 9110 allows instead of a 406.
pub fn negotiate(accept: Option<&HeaderValue>, has_br: bool, has_gzip: bool) -> Encoding {
    let Some(accept) = accept.and_then(|v| v.to_str().ok()) else {
        return Encoding::Identity;
    };
    if !has_br && !has_gzip {
        return Encoding::Identity;
    }
    let (mut br, mut gzip, mut identity, mut star) = (None, None, None, None);
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim();
        let q = parts.find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("q")
                .then(|| parse_q(v.trim()))
        });
        let q = match q {
            Some(Some(q)) => q,
            Some(None) => continue, // a malformed q-value makes the item void
            None => 1000,
        };
        let slot = if coding.eq_ignore_ascii_case("br") {
            &mut br
        } else if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            &mut gzip
        } else if coding.eq_ignore_ascii_case("identity") {
            &mut identity
        } else if coding == "*" {
            &mut star
        } else {
            continue;
        };
        *slot = Some(slot.map_or(q, |old: u16| old.max(q)));
    }
    let br = if has_br { br.or(star).unwrap_or(0) } else { 0 };
    let gzip = if has_gzip {
        gzip.or(star).unwrap_or(0)
    } else {
        0
    };
    // Identity is acceptable by default; only `identity;q=0` or `*;q=0` without it refuse it.
    let identity = identity.or(star.filter(|&q| q == 0)).unwrap_or(1);
    let best = [
        (Encoding::Brotli, br),
        (Encoding::Gzip, gzip),
        (Encoding::Identity, identity),
    ]
    .into_iter()
    .filter(|&(_, q)| q > 0)
    .fold(None::<(Encoding, u16)>, |best, cand| match best {
        Some(b) if b.1 >= cand.1 => Some(b),
        _ => Some(cand),
    });
    best.map_or(Encoding::Identity, |(e, _)| e)
}

/// A q-value in thousandths: `0`, `0.5`, `1`, `1.000`; anything else is malformed.
fn parse_q(v: &str) -> Option<u16> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac_value: u16 = format!("{frac:0<3}").parse().ok()?;
    match int {
        "0" => Some(frac_value),
        "1" if frac_value == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(accept: &str) -> Encoding {
        negotiate(Some(&HeaderValue::from_str(accept).unwrap()), true, true)
    }

    #[test]
    fn prefers_brotli_on_ties_and_honours_q() {
        assert_eq!(pick("gzip, deflate, br, zstd"), Encoding::Brotli);
        assert_eq!(pick("gzip"), Encoding::Gzip);
        assert_eq!(pick("br;q=0.5, gzip;q=0.8"), Encoding::Gzip);
        assert_eq!(pick("br;q=0, gzip;q=0"), Encoding::Identity);
        assert_eq!(pick("*"), Encoding::Brotli);
        assert_eq!(pick("*;q=0.1, br;q=0"), Encoding::Gzip);
        assert_eq!(pick("identity"), Encoding::Identity);
        assert_eq!(pick("identity;q=0.9, gzip;q=0.1"), Encoding::Identity);
        assert_eq!(pick("deflate"), Encoding::Identity);
        assert_eq!(pick("br;q=1.5, gzip"), Encoding::Gzip);
        assert_eq!(pick("BR;Q=0.9"), Encoding::Brotli);
    }

    #[test]
    fn only_existing_siblings_are_chosen() {
        let v = HeaderValue::from_static("br, gzip");
        assert_eq!(negotiate(Some(&v), false, true), Encoding::Gzip);
        assert_eq!(negotiate(Some(&v), false, false), Encoding::Identity);
        assert_eq!(negotiate(None, true, true), Encoding::Identity);
    }
}
