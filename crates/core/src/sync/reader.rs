//! Reading from the hub: the one place the terminal asks the shop's hub what
//! it holds, through its read API (`Authorization: Bearer` with the secret
//! `hub.read_token`; docs/webhooks.md, "Read API"). Parameters and answers
//! are `till_sync_proto::read`'s, the types the hub's routes use.
//!
//! (Delivery, signed with the webhook keys, is [`super::sender`]'s.)

use crate::config::Config;
use crate::secrets::{names, Secret, SecretError, SecretStore};
use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde::Serialize;
use till_sync_proto::read::{
    SettlementParams, SettlementsPage, StoredEvent, Totals, TotalsParams, MAX_LIMIT,
    SETTLEMENTS_PATH, TOTALS_PATH,
};

/// Which read a [`HubReadError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HubRead {
    /// `GET /v1/settlements`
    Settlements,
    /// `GET /v1/totals`
    Totals,
}

impl HubRead {
    fn path(self) -> &'static str {
        match self {
            HubRead::Settlements => SETTLEMENTS_PATH,
            HubRead::Totals => TOTALS_PATH,
        }
    }

    /// The answer's name in an error ("the hub's answer is …").
    fn answer(self) -> &'static str {
        match self {
            HubRead::Settlements => "answer is",
            HubRead::Totals => "totals are",
        }
    }

    /// What the hub answered a status for, in an error ("… for its totals").
    fn answered_for(self) -> &'static str {
        match self {
            HubRead::Settlements => "",
            HubRead::Totals => " for its totals",
        }
    }
}

/// Why the hub could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HubReadError {
    /// Sync is off.
    #[error("sync is off (no hub.url)")]
    NoHub,
    /// No read token is stored.
    #[error(
        "no read token for the hub: store one with `till secret set {}`",
        names::HUB_READ_TOKEN
    )]
    NoToken,
    /// The read token could not be read from the secret store.
    #[error("cannot read the hub read token: {0}")]
    Token(#[source] SecretError),
    #[error("hub HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// No answer (the transport's words).
    #[error("the hub did not answer: {0}")]
    NoAnswer(String),
    /// An answer other than 2xx.
    #[error("the hub answered {status}{}", .read.answered_for())]
    Status {
        read: HubRead,
        status: reqwest::StatusCode,
    },
    /// A 2xx answer that is not the read API's shape.
    #[error("the hub's {} not readable: {source}", .read.answer())]
    Unreadable {
        read: HubRead,
        #[source]
        source: reqwest::Error,
    },
}

impl HubReadError {
    /// Not set up (no hub URL, no read token): nothing was asked.
    pub fn not_configured(&self) -> bool {
        matches!(
            self,
            HubReadError::NoHub | HubReadError::NoToken | HubReadError::Token(_)
        )
    }
}

/// The hub's read API, with this terminal's read token.
pub struct HubReader {
    client: reqwest::Client,
    /// `hub.url` without its trailing `/`.
    base: String,
    token: Secret,
}

impl HubReader {
    /// From `hub.url`, `[tls]`, `hub.timeout_secs` and the secret `hub.read_token`.
    pub fn new(config: &Config, secrets: &dyn SecretStore) -> Result<HubReader, HubReadError> {
        let base = config.hub.url.as_ref().ok_or(HubReadError::NoHub)?;
        let token = secrets
            .get(names::HUB_READ_TOKEN)
            .map_err(HubReadError::Token)?
            .ok_or(HubReadError::NoToken)?;
        let client = till_provider_http::client_builder(&config.tls.roots)
            .timeout(config.hub_timeout())
            .build()
            .map_err(HubReadError::Client)?;
        Ok(HubReader {
            client,
            base: base.as_str().trim_end_matches('/').to_owned(),
            token,
        })
    }

    fn request(&self, read: HubRead, query: &impl Serialize) -> reqwest::RequestBuilder {
        self.client
            .get(format!("{}{}", self.base, read.path()))
            .query(query)
            .bearer_auth(self.token.expose())
    }

    async fn get<T: DeserializeOwned>(
        &self,
        read: HubRead,
        query: &impl Serialize,
    ) -> Result<T, HubReadError> {
        let r = self.request(read, query).send().await.map_err(|e| {
            HubReadError::NoAnswer(
                till_provider_http::TransportError::from_reqwest("hub", &e).message,
            )
        })?;
        if !r.status().is_success() {
            return Err(HubReadError::Status {
                read,
                status: r.status(),
            });
        }
        r.json()
            .await
            .map_err(|source| HubReadError::Unreadable { read, source })
    }

    /// One page of `GET /v1/settlements`.
    pub async fn settlements(
        &self,
        params: &SettlementParams,
    ) -> Result<SettlementsPage, HubReadError> {
        self.get(HubRead::Settlements, params).await
    }

    /// Every settlement and refund the hub holds for a terminal's business
    /// day, in arrival order (pages of the most it gives).
    pub async fn day_settlements(
        &self,
        terminal: &str,
        day: NaiveDate,
    ) -> Result<Vec<StoredEvent>, HubReadError> {
        let mut params = day_params(terminal, day);
        let mut items = Vec::new();
        loop {
            let page = self.settlements(&params).await?;
            items.extend(page.items);
            match page.next_after {
                Some(a) => params.after = Some(a),
                None => return Ok(items),
            }
        }
    }

    /// `GET /v1/totals`.
    pub async fn totals(&self, params: &TotalsParams) -> Result<Totals, HubReadError> {
        self.get(HubRead::Totals, params).await
    }

    /// The hub's totals for a terminal's business day.
    pub async fn day_totals(&self, terminal: &str, day: NaiveDate) -> Result<Totals, HubReadError> {
        self.totals(&TotalsParams {
            terminal: Some(terminal.to_owned()),
            day: Some(day.to_string()),
        })
        .await
    }
}

/// The first page's parameters of a terminal's day.
fn day_params(terminal: &str, day: NaiveDate) -> SettlementParams {
    SettlementParams {
        terminal: Some(terminal.to_owned()),
        day: Some(day.to_string()),
        limit: Some(MAX_LIMIT),
        ..SettlementParams::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader() -> HubReader {
        HubReader {
            client: reqwest::Client::new(),
            base: "https://hub.example/base".into(),
            token: Secret::new("thr_x"),
        }
    }

    /// The query strings the terminal sent before the types were shared.
    #[test]
    fn requests_keep_their_urls_and_token() {
        let r = reader();
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let mut p = day_params("till-01", day);
        let first = r.request(HubRead::Settlements, &p).build().unwrap();
        assert_eq!(
            first.url().as_str(),
            "https://hub.example/base/v1/settlements?terminal=till-01&day=2026-11-22&limit=1000"
        );
        assert_eq!(first.headers()["authorization"], "Bearer thr_x");
        p.after = Some(1000);
        assert_eq!(
            r.request(HubRead::Settlements, &p).build().unwrap().url().as_str(),
            "https://hub.example/base/v1/settlements?terminal=till-01&day=2026-11-22&limit=1000&after=1000"
        );
        let totals = TotalsParams {
            terminal: Some("till-01".into()),
            day: Some(day.to_string()),
        };
        assert_eq!(
            r.request(HubRead::Totals, &totals)
                .build()
                .unwrap()
                .url()
                .as_str(),
            "https://hub.example/base/v1/totals?terminal=till-01&day=2026-11-22"
        );
    }

    #[test]
    fn errors_say_what_they_said() {
        let status = |read| {
            HubReadError::Status {
                read,
                status: reqwest::StatusCode::NOT_FOUND,
            }
            .to_string()
        };
        assert_eq!(
            status(HubRead::Settlements),
            "the hub answered 404 Not Found"
        );
        assert_eq!(
            status(HubRead::Totals),
            "the hub answered 404 Not Found for its totals"
        );
        assert!(HubReadError::NoToken.not_configured());
        assert!(!HubReadError::NoAnswer("x".into()).not_configured());
    }
}
