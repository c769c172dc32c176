//! Weft strings: immutable UTF-8 in BYTES objects (`weft_desc_string`), and
//! the operations on them the language and the `strings` module need.
//!
//! Because strings are immutable and compared by content, any string may be
//! shared: an operation that would return its input unchanged returns the
//! input, and the empty string, `true`, `false` and every one-byte ASCII
//! string are static objects in read-only data (STATIC bit set), so
//! `chars()` and `split("")` of ASCII text allocate nothing but the array.
//!
//! Functions that allocate while holding a string root it first (see
//! `roots`); slices borrowed from a string stay valid while it is rooted
//! because the collector never moves objects.

use crate::abi::{weft_desc_box_scalar, weft_desc_string};
use crate::object::{
    payload, read_u64, ref_to_slot, write_u64, DescWord, Header, Ref, TypeDesc, STATIC,
};
use crate::roots::with_roots;
use crate::{array, gc, output, process};
use std::borrow::Cow;

/// A string object in read-only data.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct StaticString<const N: usize> {
    desc: DescWord,
    bits: u64,
    len: u64,
    bytes: [u8; N],
}

impl<const N: usize> StaticString<N> {
    const fn new(desc: *const TypeDesc, bytes: [u8; N]) -> Self {
        StaticString {
            desc: DescWord::new(desc),
            bits: STATIC,
            len: N as u64,
            bytes,
        }
    }

    /// The object as a reference (never written through: it is STATIC).
    pub fn as_ref(&'static self) -> Ref {
        self as *const Self as *mut Header
    }
}

const fn ascii_table(desc: *const TypeDesc) -> [StaticString<1>; 128] {
    let mut table = [StaticString::new(desc, [0]); 128];
    let mut i = 0;
    while i < 128 {
        table[i] = StaticString::new(desc, [i as u8]);
        i += 1;
    }
    table
}

static EMPTY: StaticString<0> = StaticString::new(&weft_desc_string, []);
static TRUE: StaticString<4> = StaticString::new(&weft_desc_string, *b"true");
static FALSE: StaticString<5> = StaticString::new(&weft_desc_string, *b"false");
static ASCII: [StaticString<1>; 128] = ascii_table(&weft_desc_string);

/// The empty string.
pub fn empty() -> Ref {
    EMPTY.as_ref()
}

/// The bytes of a string.
///
/// # Safety
/// `s` must be a string object that stays alive (rooted) while the slice is used.
#[inline]
pub unsafe fn bytes<'a>(s: Ref) -> &'a [u8] {
    core::slice::from_raw_parts(payload(s, 8), read_u64(s, 0) as usize)
}

/// The text of a string. Weft strings are UTF-8 by construction; invalid
/// bytes (which only a bug could produce) read as U+FFFD instead of being
/// undefined behaviour.
///
/// # Safety
/// As for `bytes`.
unsafe fn text<'a>(s: Ref) -> Cow<'a, str> {
    String::from_utf8_lossy(bytes(s))
}

/// A new string of `len` bytes, all zero, to be filled by the caller.
///
/// # Safety
/// May collect: the caller roots what it holds.
pub unsafe fn alloc(len: usize) -> Ref {
    let payload = len.saturating_add(8);
    let s = gc::alloc(&weft_desc_string, payload);
    write_u64(s, 0, len as u64);
    s
}

/// A string with a copy of `b`.
///
/// # Safety
/// May collect: `b` must be Rust memory or lie in a rooted object.
pub unsafe fn from_bytes(b: &[u8]) -> Ref {
    match b {
        [] => return empty(),
        [c] if c.is_ascii() => return ASCII[*c as usize].as_ref(),
        _ => {}
    }
    let s = alloc(b.len());
    core::ptr::copy_nonoverlapping(b.as_ptr(), payload(s, 8), b.len());
    s
}

/// Writes the string to a stream.
///
/// # Safety
/// `s` must be a string.
pub unsafe fn write(stream: i32, s: Ref) {
    output::write(stream, bytes(s));
}

/// `a + b`.
///
/// # Safety
/// Both must be strings.
pub unsafe fn concat(a: Ref, b: Ref) -> Ref {
    let (la, lb) = (bytes(a).len(), bytes(b).len());
    if la == 0 {
        return b;
    }
    if lb == 0 {
        return a;
    }
    let total = la.saturating_add(lb);
    let s = with_roots([a, b], |_| alloc(total));
    let out = payload(s, 8);
    core::ptr::copy_nonoverlapping(payload(a, 8), out, la);
    core::ptr::copy_nonoverlapping(payload(b, 8), out.add(la), lb);
    s
}

/// One new string of the `n` strings at `pieces` (an interpolation's parts,
/// in root slots of the caller's frame, so nothing here needs rooting).
///
/// # Safety
/// `pieces` must hold `n` strings that stay rooted during the call. May collect.
pub unsafe fn join_pieces(pieces: *const Ref, n: usize) -> Ref {
    let parts = core::slice::from_raw_parts(pieces, n);
    let mut total = 0usize;
    for &p in parts {
        total = total
            .checked_add(bytes(p).len())
            .unwrap_or_else(|| process::out_of_memory(None, "bytes"));
    }
    if let [only] = parts {
        return *only;
    }
    let s = alloc(total);
    let mut out = payload(s, 8);
    // Read the pieces again: the allocation may have collected, but they
    // are rooted, and the collector never moves objects.
    for &p in core::slice::from_raw_parts(pieces, n) {
        let b = bytes(p);
        core::ptr::copy_nonoverlapping(b.as_ptr(), out, b.len());
        out = out.add(b.len());
    }
    s
}

/// Content equality.
///
/// # Safety
/// Both must be strings.
pub unsafe fn eq(a: Ref, b: Ref) -> bool {
    a == b || bytes(a) == bytes(b)
}

/// Bytewise order: -1, 0 or 1.
///
/// # Safety
/// Both must be strings.
pub unsafe fn compare(a: Ref, b: Ref) -> i64 {
    bytes(a).cmp(bytes(b)) as i64
}

/// `str(i)`.
pub fn from_int(value: i64) -> Ref {
    let mut buf = [0u8; 20];
    // SAFETY: the bytes are on our stack.
    unsafe { from_bytes(output::format_int(value, &mut buf)) }
}

/// `str(f)`: the same text `print` writes.
pub fn from_float(value: f64) -> Ref {
    let mut text = String::new();
    output::format_float(value, &mut text);
    // SAFETY: the bytes are Rust memory.
    unsafe { from_bytes(text.as_bytes()) }
}

/// `str(b)`.
pub fn from_bool(value: bool) -> Ref {
    if value {
        TRUE.as_ref()
    } else {
        FALSE.as_ref()
    }
}

/// `strings.split(s, sep)`: the pieces between occurrences of `sep`, like
/// Rust's `str::split`; an empty separator splits into characters.
///
/// # Safety
/// Both must be strings.
pub unsafe fn split(s: Ref, sep: Ref) -> Ref {
    if bytes(sep).is_empty() {
        return chars(s);
    }
    with_roots([s, sep], |_| {
        let (text, sep) = (text(s), text(sep));
        let pieces: Vec<&str> = text.split(&*sep).collect();
        strings_array(pieces.iter().map(|p| p.as_bytes()), pieces.len())
    })
}

/// A new `[string]` of copies of `pieces` (which must be Rust memory or lie
/// in rooted objects).
unsafe fn strings_array<'a>(pieces: impl Iterator<Item = &'a [u8]>, count: usize) -> Ref {
    let arr = array::new(true, count);
    with_roots([arr], |_| {
        for piece in pieces {
            let s = from_bytes(piece);
            array::push(arr, ref_to_slot(s));
        }
    });
    arr
}

/// `strings.join(parts, sep)`.
///
/// # Safety
/// `parts` must be a `[string]` array and `sep` a string.
pub unsafe fn join(parts: Ref, sep: Ref) -> Ref {
    let count = array::len(parts);
    match count {
        0 => return empty(),
        1 => return array::get_ref(parts, 0),
        _ => {}
    }
    let sep_len = bytes(sep).len();
    let mut total = sep_len.saturating_mul(count - 1);
    for i in 0..count {
        total = total.saturating_add(bytes(array::get_ref(parts, i)).len());
    }
    let s = with_roots([parts, sep], |_| alloc(total));
    let mut out = payload(s, 8);
    for i in 0..count {
        if i > 0 {
            core::ptr::copy_nonoverlapping(payload(sep, 8), out, sep_len);
            out = out.add(sep_len);
        }
        let part = bytes(array::get_ref(parts, i));
        core::ptr::copy_nonoverlapping(part.as_ptr(), out, part.len());
        out = out.add(part.len());
    }
    s
}

/// `strings.trim(s)`: without leading and trailing Unicode whitespace.
///
/// # Safety
/// `s` must be a string.
pub unsafe fn trim(s: Ref) -> Ref {
    let text = text(s);
    let trimmed = text.trim();
    if trimmed.len() == bytes(s).len() {
        return s;
    }
    with_roots([s], |_| from_bytes(trimmed.as_bytes()))
}

/// `strings.find(s, sub)`: the byte index of the first occurrence, or -1.
///
/// # Safety
/// Both must be strings.
pub unsafe fn find(s: Ref, sub: Ref) -> i64 {
    match text(s).find(&*text(sub)) {
        Some(i) => i as i64,
        None => -1,
    }
}

/// `strings.replace(s, from, to)`: every occurrence replaced; an empty
/// `from` leaves `s` as it is.
///
/// # Safety
/// All three must be strings.
pub unsafe fn replace(s: Ref, from: Ref, to: Ref) -> Ref {
    let (text, from, to) = (text(s), text(from), text(to));
    if from.is_empty() || !text.contains(&*from) {
        return s;
    }
    let replaced = text.replace(&*from, &to);
    from_bytes(replaced.as_bytes())
}

/// `strings.repeat(s, n)`: `s` `n` times (empty for `n <= 0`).
///
/// # Safety
/// `s` must be a string.
pub unsafe fn repeat(s: Ref, n: i64) -> Ref {
    let len = bytes(s).len();
    if n <= 0 || len == 0 {
        return empty();
    }
    if n == 1 {
        return s;
    }
    // `n` may not fit in a (32-bit, on wasm32) usize: never truncated.
    let Some(total) = usize::try_from(n).ok().and_then(|n| len.checked_mul(n)) else {
        process::out_of_memory(Some(len as u128 * n as u128), "bytes");
    };
    let out = with_roots([s], |_| alloc(total));
    let src = payload(s, 8);
    let dst = payload(out, 8);
    for i in 0..total / len {
        core::ptr::copy_nonoverlapping(src, dst.add(i * len), len);
    }
    out
}

/// `strings.chars(s)`: one string per Unicode scalar value.
///
/// # Safety
/// `s` must be a string.
pub unsafe fn chars(s: Ref) -> Ref {
    with_roots([s], |_| {
        let text = text(s);
        let count = text.chars().count();
        let pieces = text
            .char_indices()
            .map(|(at, c)| &text.as_bytes()[at..at + c.len_utf8()]);
        strings_array(pieces, count)
    })
}

/// `strings.parse_int(s)`: an `int?` box, nil unless `s` is a base-10
/// integer with an optional sign and nothing else (no spaces).
///
/// # Safety
/// `s` must be a string.
pub unsafe fn parse_int(s: Ref) -> Ref {
    match text(s).parse::<i64>() {
        Ok(v) => scalar_box(v as u64),
        Err(_) => core::ptr::null_mut(),
    }
}

/// `strings.parse_float(s)`: a `float?` box, nil unless Rust's `f64` parser
/// accepts `s`.
///
/// # Safety
/// `s` must be a string.
pub unsafe fn parse_float(s: Ref) -> Ref {
    match text(s).parse::<f64>() {
        Ok(v) => scalar_box(v.to_bits()),
        Err(_) => core::ptr::null_mut(),
    }
}

/// A box (`weft_desc_box_scalar`) holding `bits`: an optional's value.
unsafe fn scalar_box(bits: u64) -> Ref {
    let b = gc::alloc(&weft_desc_box_scalar, 8);
    write_u64(b, 0, bits);
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::array;
    use crate::tests::heap_lock;

    fn s(text: &str) -> Ref {
        // SAFETY: Rust memory.
        unsafe { from_bytes(text.as_bytes()) }
    }

    fn t(r: Ref) -> String {
        // SAFETY: tests pass strings.
        unsafe { String::from_utf8(bytes(r).to_vec()).unwrap() }
    }

    fn list(arr: Ref) -> Vec<String> {
        // SAFETY: tests pass `[string]` arrays.
        unsafe {
            (0..array::len(arr))
                .map(|i| t(array::get_ref(arr, i)))
                .collect()
        }
    }

    #[test]
    fn conversions_match_print() {
        let _heap = heap_lock();
        assert_eq!(t(from_int(0)), "0");
        assert_eq!(t(from_int(-42)), "-42");
        assert_eq!(t(from_int(i64::MIN)), "-9223372036854775808");
        assert_eq!(t(from_int(i64::MAX)), "9223372036854775807");
        assert_eq!(t(from_float(3.0)), "3.0");
        assert_eq!(t(from_float(0.1)), "0.1");
        assert_eq!(t(from_float(1e100)), "1e100");
        assert_eq!(t(from_float(f64::INFINITY)), "inf");
        assert_eq!(t(from_float(f64::NAN)), "NaN");
        assert_eq!(t(from_float(-0.0)), "-0.0");
        assert_eq!(t(from_bool(true)), "true");
        assert_eq!(t(from_bool(false)), "false");
    }

    #[test]
    fn concat_eq_and_compare() {
        let _heap = heap_lock();
        // SAFETY: all arguments are strings.
        unsafe {
            let ab = concat(s("héllo, "), s("wörld"));
            assert_eq!(t(ab), "héllo, wörld");
            assert!(eq(ab, s("héllo, wörld")));
            assert!(!eq(ab, s("héllo")));
            assert_eq!(concat(ab, empty()), ab);
            assert_eq!(compare(s("a"), s("b")), -1);
            assert_eq!(compare(s("b"), s("a")), 1);
            assert_eq!(compare(s("ab"), s("ab")), 0);
            assert_eq!(compare(s("ab"), s("abc")), -1);
            assert_eq!(compare(empty(), s("a")), -1);
        }
    }

    #[test]
    fn concat_roots_its_arguments_under_stress() {
        let _heap = heap_lock();
        crate::gc::set_stress(true);
        // SAFETY: the strings are rooted while the next is made.
        unsafe {
            let a = s("abc");
            let b = with_roots([a], |_| s("defg"));
            let ab = concat(a, b);
            crate::gc::set_stress(false);
            assert_eq!(t(ab), "abcdefg");
        }
    }

    #[test]
    fn split_like_rust() {
        let _heap = heap_lock();
        // SAFETY: all arguments are strings.
        unsafe {
            assert_eq!(list(split(s("a,b,,c"), s(","))), ["a", "b", "", "c"]);
            assert_eq!(list(split(s(""), s(","))), [""]);
            assert_eq!(list(split(s(",x,"), s(","))), ["", "x", ""]);
            assert_eq!(list(split(s("one::two"), s("::"))), ["one", "two"]);
            assert_eq!(list(split(s("añb"), s(""))), ["a", "ñ", "b"]);
            assert_eq!(list(split(s("abc"), s("abc"))), ["", ""]);
        }
    }

    #[test]
    fn split_survives_collections_at_every_allocation() {
        let _heap = heap_lock();
        let text = (0..200).map(|i| format!("word{i}")).collect::<Vec<_>>();
        let joined = text.join(" ");
        crate::gc::set_stress(true);
        // SAFETY: all arguments are strings.
        let pieces = unsafe {
            let input = s(&joined);
            let sep = with_roots([input], |_| s(" "));
            split(input, sep)
        };
        crate::gc::set_stress(false);
        assert_eq!(list(pieces), text);
    }

    #[test]
    fn join_trim_find_replace_repeat() {
        let _heap = heap_lock();
        // SAFETY: all arguments are strings (and a `[string]`).
        unsafe {
            let parts = split(s("x y z"), s(" "));
            assert_eq!(t(join(parts, s(", "))), "x, y, z");
            assert_eq!(t(join(array::new(true, 0), s(","))), "");
            assert_eq!(t(join(split(s("solo"), s(",")), s(","))), "solo");
            assert_eq!(t(trim(s(" \t\n hi there \u{3000}"))), "hi there");
            let tight = s("tight");
            assert_eq!(trim(tight), tight);
            assert_eq!(t(trim(s("   "))), "");
            assert_eq!(find(s("hello"), s("ll")), 2);
            assert_eq!(find(s("hello"), s("z")), -1);
            assert_eq!(find(s("hello"), s("")), 0);
            assert_eq!(find(s("añb"), s("b")), 3);
            assert_eq!(t(replace(s("a-b-c"), s("-"), s("+="))), "a+=b+=c");
            let same = s("abc");
            assert_eq!(replace(same, s(""), s("x")), same);
            assert_eq!(replace(same, s("z"), s("x")), same);
            assert_eq!(t(repeat(s("ab"), 3)), "ababab");
            assert_eq!(t(repeat(s("ab"), 0)), "");
            assert_eq!(t(repeat(s("ab"), -5)), "");
        }
    }

    #[test]
    fn chars_are_unicode_scalars() {
        let _heap = heap_lock();
        // SAFETY: all arguments are strings.
        unsafe {
            assert_eq!(list(chars(s("aé😀z"))), ["a", "é", "😀", "z"]);
            assert_eq!(list(chars(empty())), Vec::<String>::new());
            // ASCII characters are shared static strings.
            let abc = chars(s("aa"));
            assert_eq!(array::get_ref(abc, 0), array::get_ref(abc, 1));
            assert_eq!((*array::get_ref(abc, 0)).bits, STATIC);
        }
    }

    #[test]
    fn parse_numbers() {
        let _heap = heap_lock();
        let int = |text: &str| {
            // SAFETY: a string argument; the result is a scalar box or null.
            unsafe {
                let b = parse_int(s(text));
                (!b.is_null()).then(|| read_u64(b, 0) as i64)
            }
        };
        assert_eq!(int("42"), Some(42));
        assert_eq!(int("-42"), Some(-42));
        assert_eq!(int("+7"), Some(7));
        assert_eq!(int("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(int("9223372036854775808"), None);
        assert_eq!(int(" 1"), None);
        assert_eq!(int("1 "), None);
        assert_eq!(int(""), None);
        assert_eq!(int("-"), None);
        assert_eq!(int("1.5"), None);
        let float = |text: &str| {
            // SAFETY: as above.
            unsafe {
                let b = parse_float(s(text));
                (!b.is_null()).then(|| f64::from_bits(read_u64(b, 0)))
            }
        };
        assert_eq!(float("1.5"), Some(1.5));
        assert_eq!(float("-2"), Some(-2.0));
        assert_eq!(float("1e3"), Some(1000.0));
        assert_eq!(float("inf"), Some(f64::INFINITY));
        assert!(float("NaN").unwrap().is_nan());
        assert_eq!(float("abc"), None);
        assert_eq!(float(" 1.0"), None);
    }
}
