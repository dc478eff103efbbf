//! Untrusted text made safe for where it goes.
//!
//! Report JSON, mail headers, Terraform plans and DNS, HTTP and SMTP answers come
//! from strangers. Every piece of such text that reaches a terminal, a log line,
//! a lint finding, an HTML page or a mail header passes through one of these
//! functions; none of them can be made to start a new line, move a terminal's
//! cursor or open an HTML element.

use std::fmt::Write as _;

/// No cut: [`escaped`] keeps every character.
pub const UNCUT: usize = usize::MAX;

/// Whether `c` is a control character, a line or paragraph separator
/// (U+2028, U+2029: line breaks to many log viewers) or a bidirectional-text
/// control (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069): characters that
/// can make a line read otherwise than it is written.
pub fn is_hostile(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `s` with every control character (and bidirectional-text control, see
/// [`is_hostile`]) written as a Rust-style escape (`\u{1b}`), cut after
/// `max_chars` characters with an ellipsis.
pub fn escaped(s: &str, max_chars: usize) -> String {
    if max_chars == UNCUT && !s.chars().any(is_hostile) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len().min(max_chars.saturating_add(8)));
    for (n, c) in s.chars().enumerate() {
        if n == max_chars {
            out.push('…');
            break;
        }
        if is_hostile(c) {
            let _ = write!(out, "{}", c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// [`escaped`] for bytes: invalid UTF-8 is replaced first.
pub fn escaped_bytes(bytes: &[u8], max_chars: usize) -> String {
    // A character takes at most four bytes: no need to decode more.
    let end = bytes.len().min(max_chars.saturating_mul(4).saturating_add(4));
    escaped(&String::from_utf8_lossy(&bytes[..end]), max_chars)
}

/// `s` on one line: every control character (line breaks and bidirectional
/// controls included, see [`is_hostile`]) becomes a space, cut after
/// `max_chars` characters (no ellipsis).
pub fn spaced(s: &str, max_chars: usize) -> String {
    s.chars()
        .take(max_chars)
        .map(|c| if is_hostile(c) { ' ' } else { c })
        .collect()
}

/// Characters of an offending value quoted by [`quoted`].
pub const QUOTED_CHARS: usize = 80;

/// `bytes` quoted for a one-line lint message: lossy UTF-8 between backticks,
/// with backticks, control characters, white space other than the space and
/// invisible characters escaped, cut at [`QUOTED_CHARS`] characters.
pub fn quoted(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(QUOTED_CHARS * 4)]);
    let mut out = String::from("`");
    for (i, c) in text.chars().enumerate() {
        if i == QUOTED_CHARS {
            out.push('…');
            break;
        }
        if c == '`' || c.is_control() || c.is_whitespace() && c != ' ' || is_invisible(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out.push('`');
    out
}

/// Zero-width and other invisible format characters.
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}')
        || is_hostile(c) && !c.is_control()
}

/// `s` escaped for HTML text and attribute values (`&`, `<`, `>`, `"`, `'`);
/// control characters become spaces.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if is_hostile(c) => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A mail header value from outside, made safe to store and to show: unfolded,
/// control characters turned into spaces, runs of white space collapsed,
/// trimmed and cut at `max_chars`, so it can never smuggle a line break into a
/// header built from it.
pub fn header(value: &str, max_chars: usize) -> String {
    // Fast path: printable ASCII with single spaces between words.
    let t = value.trim_matches(|c: char| c.is_ascii_whitespace());
    if t.len() <= max_chars
        && t.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
        && !t.as_bytes().windows(2).any(|w| w == b"  ")
    {
        return t.to_owned();
    }
    let mut out = String::with_capacity(value.len().min(max_chars));
    let mut chars = 0usize;
    let mut space = false;
    for c in value.chars() {
        if c.is_whitespace() || c.is_control() {
            space = !out.is_empty();
            continue;
        }
        if chars + usize::from(space) >= max_chars {
            break;
        }
        if space {
            out.push(' ');
            chars += 1;
            space = false;
        }
        out.push(c);
        chars += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_writes_controls_as_escapes_and_cuts() {
        assert_eq!(escaped("a\u{1b}[2J\nb", UNCUT), "a\\u{1b}[2J\\u{a}b");
        assert_eq!(escaped("abcdef", 3), "abc…");
        assert_eq!(escaped("abc", 3), "abc");
        assert_eq!(escaped_bytes(b"a\xffb\r", 10), "a\u{fffd}b\\u{d}");
    }

    #[test]
    fn bidirectional_controls_are_hostile_everywhere() {
        let s = "invoice\u{202e}fdp.exe \u{2066}x\u{2069}";
        assert_eq!(escaped(s, UNCUT), "invoice\\u{202e}fdp.exe \\u{2066}x\\u{2069}");
        assert_eq!(spaced(s, UNCUT), "invoice fdp.exe  x ");
        assert_eq!(html(s), "invoice fdp.exe  x ");
        assert!(quoted(s.as_bytes()).contains("\\u{202e}"));
        assert!(!is_hostile('é') && !is_hostile('\u{200b}') && is_hostile('\u{7f}'));
        assert_eq!(escaped("a\u{2028}b\u{2029}c", UNCUT), "a\\u{2028}b\\u{2029}c");
    }

    #[test]
    fn spaced_and_quoted() {
        assert_eq!(spaced("a\r\nb", UNCUT), "a  b");
        assert_eq!(spaced("abcdef", 2), "ab");
        assert_eq!(quoted(b"id=1`\t\xe2\x80\x8b"), "`id=1\\u{60}\\u{9}\\u{200b}`");
        assert!(quoted(&[b'x'; 200]).ends_with("…`"));
    }

    #[test]
    fn html_escapes_markup_and_controls() {
        assert_eq!(
            html("<script>alert('x') & \"y\"</script>\n"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt; "
        );
    }

    #[test]
    fn header_unfolds_and_strips_controls() {
        assert_eq!(header("  a\r\n\tb  c\u{0}d ", 100), "a b c d");
        assert_eq!(header("plain value", 100), "plain value");
        assert_eq!(header("abcdef", 3), "abc");
    }
}
