//! Format specs in interpolation (`"{x:.3}"`, `"{n:08x}"`, `"{s:*^9}"`):
//! the text of the spec, parsed by `weft_abi::format` (the compiler checked
//! it with the same parser), applied to an int, a float, or the `str` of
//! any other value. Rust's own formatting does the digits, so `{x:.3}` is
//! correctly rounded.

use crate::object::Ref;
use crate::{output, string};
use weft_abi::format::{Align, Spec};

/// The spec's text from compiled code's constant bytes.
///
/// # Safety
/// `p` points to `len` bytes of UTF-8 that live as long as the program.
pub unsafe fn text(p: *const u8, len: i64) -> &'static str {
    let bytes = core::slice::from_raw_parts(p, len.max(0) as usize);
    core::str::from_utf8(bytes).unwrap_or("")
}

fn parse(text: &str) -> Spec {
    // The compiler rejected every spec this parser rejects.
    Spec::parse(text).unwrap_or(Spec {
        fill: ' ',
        align: None,
        zero: false,
        width: 0,
        precision: None,
        kind: None,
    })
}

pub fn int(v: i64, text: &str) -> Ref {
    let spec = parse(text);
    // Hex, binary and octal show the 64-bit two's complement.
    let (sign, body) = match spec.kind {
        Some('x') => ("", format!("{:x}", v as u64)),
        Some('X') => ("", format!("{:X}", v as u64)),
        Some('b') => ("", format!("{:b}", v as u64)),
        Some('o') => ("", format!("{:o}", v as u64)),
        _ if v < 0 => ("-", v.unsigned_abs().to_string()),
        _ => ("", v.to_string()),
    };
    number(sign, &body, &spec)
}

pub fn float(v: f64, text: &str) -> Ref {
    let spec = parse(text);
    let sign = if v.is_sign_negative() && !v.is_nan() {
        "-"
    } else {
        ""
    };
    let a = v.abs();
    let body = match (spec.kind, spec.precision) {
        (Some('e'), Some(p)) => format!("{a:.p$e}"),
        (Some('e'), None) => format!("{a:e}"),
        (_, Some(p)) if a.is_finite() => format!("{a:.p$}"),
        _ => {
            let mut s = String::new();
            output::format_float(a, &mut s);
            s
        }
    };
    number(sign, &body, &spec)
}

/// A number's sign and digits, padded: zero-padding goes after the sign.
fn number(sign: &str, body: &str, spec: &Spec) -> Ref {
    let len = sign.len() + body.chars().count();
    let text = if spec.zero && spec.align.is_none() && len < spec.width {
        format!("{sign}{}{body}", "0".repeat(spec.width - len))
    } else {
        pad(&format!("{sign}{body}"), spec, Align::Right)
    };
    // SAFETY: Rust memory.
    unsafe { string::from_bytes(text.as_bytes()) }
}

/// # Safety
/// `s` is a live string.
pub unsafe fn pad_str(s: Ref, text: &str) -> Ref {
    let spec = parse(text);
    let mut value: String = String::from_utf8_lossy(string::bytes(s)).into_owned();
    if let Some(p) = spec.precision {
        value = value.chars().take(p).collect();
    }
    let out = pad(&value, &spec, Align::Left);
    string::from_bytes(out.as_bytes())
}

/// `s` in `spec.width` columns (characters), filled with `spec.fill`; the
/// odd column of centred text goes right.
fn pad(s: &str, spec: &Spec, default: Align) -> String {
    let n = s.chars().count();
    if n >= spec.width {
        return s.to_string();
    }
    let gap = spec.width - n;
    let (left, right) = match spec.align.unwrap_or(default) {
        Align::Left => (0, gap),
        Align::Right => (gap, 0),
        Align::Center => (gap / 2, gap - gap / 2),
    };
    let fill = |k: usize| std::iter::repeat_n(spec.fill, k).collect::<String>();
    format!("{}{s}{}", fill(left), fill(right))
}
