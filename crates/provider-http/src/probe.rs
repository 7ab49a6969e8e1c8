//! The transport half of a connection test: can a TLS connection be made to
//! a server, how long does its answer take, and does its clock agree with
//! ours? Any HTTP answer at all (a 403 or 404 from an API gateway included)
//! proves the network, the certificate and the server's clock; what the
//! provider thinks of our credentials is the adapter's own call.

use std::time::{Duration, Instant, SystemTime};

/// Why no HTTP answer came back, as a person fixing it needs to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportProblem {
    /// The server's certificate is not trusted (unknown CA, wrong name, expired).
    UntrustedCertificate,
    /// Another TLS failure (protocol version, handshake refused).
    Tls,
    /// Nothing answered in time.
    Timeout,
    /// No connection (refused, no route, DNS).
    Unreachable,
    /// Anything else (a broken answer).
    Other,
}

/// Classifies a reqwest error: the TLS cause first (it hides under connect errors).
pub fn transport_problem(err: &reqwest::Error) -> TransportProblem {
    match crate::tls::rustls_cause(err) {
        Some(rustls::Error::InvalidCertificate(_)) => TransportProblem::UntrustedCertificate,
        Some(_) => TransportProblem::Tls,
        None if err.is_timeout() => TransportProblem::Timeout,
        None if err.is_connect() => TransportProblem::Unreachable,
        None => TransportProblem::Other,
    }
}

/// What one probe saw.
#[derive(Clone, Debug)]
pub struct Probed {
    /// The HTTP status the server answered with (any status counts as an answer).
    pub status: u16,
    pub elapsed: Duration,
    /// The server's clock minus ours, in whole seconds, from its `Date` header.
    pub clock_skew_s: Option<i64>,
}

/// A probe that got no HTTP answer.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{url}: {message}")]
pub struct ProbeError {
    pub url: String,
    pub problem: TransportProblem,
    /// The error in words, without the URL's query.
    pub message: String,
}

/// `GET url` with `client`; the body is not read.
pub async fn probe(client: &reqwest::Client, url: &str) -> Result<Probed, ProbeError> {
    let started = Instant::now();
    let answer = client.get(url).send().await.map_err(|e| ProbeError {
        url: url.to_owned(),
        problem: transport_problem(&e),
        message: crate::TransportError::from_reqwest(url, &e).message,
    })?;
    let elapsed = started.elapsed();
    let clock_skew_s = answer
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .map(|theirs| skew_s(theirs, SystemTime::now() - elapsed / 2));
    Ok(Probed {
        status: answer.status().as_u16(),
        elapsed,
        clock_skew_s,
    })
}

/// `theirs - ours` in seconds (a `Date` header has whole seconds: ±1 is noise).
fn skew_s(theirs: SystemTime, ours: SystemTime) -> i64 {
    match theirs.duration_since(ours) {
        Ok(ahead) => ahead.as_secs() as i64,
        Err(behind) => -(behind.duration().as_secs() as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_has_a_sign() {
        let now = SystemTime::now();
        assert_eq!(skew_s(now + Duration::from_secs(90), now), 90);
        assert_eq!(skew_s(now - Duration::from_secs(400), now), -400);
    }

    #[tokio::test]
    async fn nothing_listening_is_unreachable() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = probe(
            &reqwest::Client::new(),
            &format!("http://127.0.0.1:{port}/"),
        )
        .await
        .unwrap_err();
        assert_eq!(e.problem, TransportProblem::Unreachable, "{e}");
    }
}
