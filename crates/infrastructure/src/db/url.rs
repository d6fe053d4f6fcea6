//! Small, dependency-free edits of database URLs (`scheme://user:password@host:port/db?query`).

/// The URL with its password replaced by `***`, safe for error messages and logs.
#[must_use]
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    // The last '@' ends the user information: a password may itself contain '@'.
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
        None => url.to_owned(),
    }
}

/// The URL pointing at database `name` on the same server, keeping user, host and query.
#[cfg_attr(not(feature = "test-support"), allow(dead_code))]
pub(crate) fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |at| at + 3);
    let path_start = base[authority_start..].find('/').map_or(base.len(), |at| authority_start + at);
    let mut rebuilt = format!("{}/{name}", &base[..path_start]);
    if let Some(query) = query {
        rebuilt.push('?');
        rebuilt.push_str(query);
    }
    rebuilt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact_url("postgres://app:s3cr%40t@db:5432/factus?sslmode=require"),
            "postgres://app:***@db:5432/factus?sslmode=require"
        );
    }

    #[test]
    fn passwords_containing_at_signs_are_hidden_whole() {
        assert_eq!(redact_url("postgres://app:p@ss@db/x"), "postgres://app:***@db/x");
    }

    #[test]
    fn urls_without_a_password_are_unchanged() {
        for url in ["postgres://postgres@127.0.0.1/postgres", "sqlite://factus-api.db", "sqlite::memory:"] {
            assert_eq!(redact_url(url), url);
        }
    }

    #[test]
    fn the_database_name_is_replaced_and_the_query_kept() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "factus_test_1"),
            "postgres://u:p@h:5432/factus_test_1?sslmode=disable"
        );
    }

    #[test]
    fn a_database_name_is_added_when_the_url_has_none() {
        assert_eq!(with_database("postgres://u@h:5432", "t"), "postgres://u@h:5432/t");
        assert_eq!(with_database("postgres://u@h:5432?x=1", "t"), "postgres://u@h:5432/t?x=1");
    }
}
