//! Rust source as tokens: words, `::` and punctuation, with comments and literals left out.

/// A token of code: a word (identifier, keyword, number, `'lifetime`, `$crate`), `::`, or one
/// punctuation character; with its line and byte offset.
pub(crate) struct Tok<'a> {
    pub(crate) text: &'a str,
    pub(crate) line: usize,
    pub(crate) pos: usize,
}

/// Splits `code` into tokens, leaving out comments and literals (strings, byte and raw strings,
/// chars), so that brackets balance and every path left is code.
pub(crate) fn tokenize(code: &str) -> Vec<Tok<'_>> {
    let b = code.as_bytes();
    let (mut toks, mut i, mut line) = (Vec::new(), 0, 1);
    while i < b.len() {
        let start = i;
        if let Some(end) = literal_end(b, i) {
            line += b[start..end].iter().filter(|&&c| c == b'\n').count();
            i = end;
            continue;
        }
        i += 1;
        if b[start] == b'\n' {
            line += 1;
        } else if is_word_byte(b[start]) || matches!(b[start], b'\'' | b'$') {
            while i < b.len() && is_word_byte(b[i]) {
                i += 1;
            }
        } else if b[start..].starts_with(b"::") {
            i += 1;
        }
        if !b[start].is_ascii_whitespace() {
            toks.push(Tok { text: &code[start..i], line, pos: start });
        }
    }
    toks
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

pub(crate) fn is_ident(word: &str) -> bool {
    word.bytes().next().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_' || c >= 0x80)
}

/// The index after the bracket that closes the one at `toks[open]`.
pub(crate) fn closing(toks: &[Tok], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, tok) in toks.iter().enumerate().skip(open) {
        match tok.text {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    toks.len()
}

/// The index after the item starting at `toks[i]`: after its `;`, or after its body's closing
/// brace unless it is an assignment or a `use`, which end with `;`.
pub(crate) fn item_end(toks: &[Tok], mut i: usize) -> usize {
    let mut needs_semicolon = false;
    while let Some(tok) = toks.get(i) {
        match tok.text {
            ";" => return i + 1,
            "{" if !needs_semicolon => return closing(toks, i),
            "(" | "[" | "{" => i = closing(toks, i) - 1,
            "=" | "use" => needs_semicolon = true,
            _ => {}
        }
        i += 1;
    }
    i
}

/// The end of the comment or literal starting at `b[i]`, if one starts there.
fn literal_end(b: &[u8], i: usize) -> Option<usize> {
    let at = |k: usize| b.get(k).copied().unwrap_or(0);
    match at(i) {
        b'/' if at(i + 1) == b'/' => Some(b[i..].iter().position(|&c| c == b'\n').map_or(b.len(), |p| i + p)),
        b'/' if at(i + 1) == b'*' => Some(block_comment_end(b, i)),
        b'"' => Some(string_end(b, i + 1)),
        b'\'' => char_end(b, i),
        c @ (b'b' | b'c' | b'r') if i == 0 || !is_word_byte(b[i - 1]) => match (c, at(i + 1)) {
            (b'r', _) => raw_string_end(b, i + 1),
            (_, b'r') => raw_string_end(b, i + 2),
            (_, b'"') => Some(string_end(b, i + 2)),
            (b'b', b'\'') => char_end(b, i + 1),
            _ => None,
        },
        _ => None,
    }
}

/// The end of the block comment starting at `b[i]`; block comments nest.
fn block_comment_end(b: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i + 1 < b.len() {
        match &b[i..i + 2] {
            b"/*" => depth += 1,
            b"*/" => depth -= 1,
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
        if depth == 0 {
            return i;
        }
    }
    b.len()
}

/// The end of a string whose content starts at `b[i]`, with `\` escapes.
fn string_end(b: &[u8], mut i: usize) -> usize {
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// The end of a raw string whose hashes (if any) start at `b[i]`: `r"..."`, `r#"..."#`.
/// `None` for a raw identifier (`r#type`).
fn raw_string_end(b: &[u8], i: usize) -> Option<usize> {
    let hashes = b[i..].iter().take_while(|&&c| c == b'#').count();
    if b.get(i + hashes) != Some(&b'"') {
        return None;
    }
    let mut closing = vec![b'"'];
    closing.resize(hashes + 1, b'#');
    let body = i + hashes + 1;
    Some(b[body..].windows(closing.len()).position(|w| w == closing).map_or(b.len(), |p| body + p + closing.len()))
}

/// The end of the char literal starting at the quote `b[i]`; `None` for a lifetime (`'a`, `'static`).
fn char_end(b: &[u8], i: usize) -> Option<usize> {
    let first = *b.get(i + 1)?;
    if first == b'\\' {
        // The escaped character may itself be a quote (`'\''`), so the search starts after it.
        return Some(b.iter().skip(i + 3).position(|&c| c == b'\'').map_or(b.len(), |p| i + 4 + p));
    }
    let len = match first {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    };
    (b.get(i + 1 + len) == Some(&b'\'')).then_some(i + 2 + len)
}
