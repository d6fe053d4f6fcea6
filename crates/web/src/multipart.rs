//! A small `multipart/form-data` reader (RFC 7578) for the bodies this service accepts in that
//! form: the OAuth2 login form, which FastAPI reads from either form encoding (Postman's
//! "form-data" sends this one), and the company logo upload.
//!
//! The whole body is already in memory (bounded by [`crate::extract::MAX_BODY_BYTES`], or
//! [`crate::extract::MAX_UPLOAD_BYTES`] for uploads); parts
//! are split on the boundary, and each part's `Content-Disposition` gives its field name and,
//! for files, its file name.

/// One part of a multipart body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: &'a [u8],
}

/// The boundary of a `multipart/form-data` content type, or `None` for any other type.
#[must_use]
pub fn boundary(content_type: &str) -> Option<String> {
    let mut pieces = content_type.split(';');
    let essence = pieces.next()?.trim();
    if !essence.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    pieces
        .find_map(|piece| {
            let (key, value) = piece.split_once('=')?;
            key.trim().eq_ignore_ascii_case("boundary").then(|| value.trim().trim_matches('"').to_owned())
        })
        .filter(|boundary| !boundary.is_empty() && boundary.len() <= 70)
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack.get(from..)?.windows(needle.len()).position(|window| window == needle).map(|at| at + from)
}

/// The value of `key="value"` (or `key=value`) in a header's parameters.
fn parameter(header: &str, key: &str) -> Option<String> {
    header.split(';').skip(1).find_map(|piece| {
        let (name, value) = piece.split_once('=')?;
        name.trim().eq_ignore_ascii_case(key).then(|| value.trim().trim_matches('"').to_owned())
    })
}

/// A body that is not well-formed multipart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MalformedMultipart;

/// Splits `body` into its parts.
///
/// # Errors
/// [`MalformedMultipart`] when the body is not a well-formed multipart body with this boundary (no opening
/// or closing delimiter, a part without a blank line after its headers, or without a name).
pub fn parse<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, MalformedMultipart> {
    let delimiter = format!("--{boundary}");
    let next_delimiter = format!("\r\n--{boundary}");
    let mut position = find(body, delimiter.as_bytes(), 0).ok_or(MalformedMultipart)? + delimiter.len();
    let mut parts = Vec::new();
    loop {
        // After a delimiter: `--` closes the body, CRLF opens a part.
        if body.get(position..position + 2) == Some(b"--") {
            return Ok(parts);
        }
        if body.get(position..position + 2) != Some(b"\r\n") {
            return Err(MalformedMultipart);
        }
        position += 2;
        let headers_end = find(body, b"\r\n\r\n", position).ok_or(MalformedMultipart)?;
        let headers = std::str::from_utf8(&body[position..headers_end]).map_err(|_| MalformedMultipart)?;
        let data_start = headers_end + 4;
        let data_end = find(body, next_delimiter.as_bytes(), data_start).ok_or(MalformedMultipart)?;
        let (mut name, mut filename, mut content_type) = (None, None, None);
        for line in headers.split("\r\n") {
            let Some((header, value)) = line.split_once(':') else { continue };
            if header.trim().eq_ignore_ascii_case("content-disposition") {
                name = parameter(value, "name");
                filename = parameter(value, "filename");
            } else if header.trim().eq_ignore_ascii_case("content-type") {
                content_type = Some(value.trim().to_owned());
            }
        }
        parts.push(Part {
            name: name.ok_or(MalformedMultipart)?,
            filename,
            content_type,
            data: &body[data_start..data_end],
        });
        position = data_end + next_delimiter.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = b"--XyZ\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nadmin\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nadmin123\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"logo.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\r\n\
--XyZ--\r\n";

    #[test]
    fn the_boundary_comes_from_a_multipart_form_data_content_type_only() {
        assert_eq!(boundary("multipart/form-data; boundary=XyZ").as_deref(), Some("XyZ"));
        assert_eq!(boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b\"").as_deref(), Some("a b"));
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
        assert_eq!(boundary("multipart/form-data"), None);
    }

    #[test]
    fn fields_and_files_are_read_with_their_names_and_bytes_intact() {
        let parts = parse(BODY, "XyZ").unwrap();
        let names: Vec<&str> = parts.iter().map(|part| part.name.as_str()).collect();
        assert_eq!(names, ["username", "password", "image"]);
        assert_eq!(parts[1].data, b"admin123");
        assert_eq!(parts[2].filename.as_deref(), Some("logo.png"));
        assert_eq!(parts[2].content_type.as_deref(), Some("image/png"));
        // Binary data, CRLF included, is kept as sent.
        assert_eq!(parts[2].data, b"\x89PNG\r\n\x1a\n");
    }

    #[test]
    fn a_body_without_its_closing_delimiter_or_with_another_boundary_is_refused() {
        assert!(parse(&BODY[..BODY.len() - 9], "XyZ").is_err());
        assert!(parse(BODY, "other").is_err());
        assert!(parse(b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--", "XyZ").is_err());
    }
}
