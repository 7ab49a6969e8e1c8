//! `till api requests [approve ID | decline ID]`: the refund requests the
//! POS made. Only a manager turns one into a refund (the PIN; the audit row
//! and the refund are the session's): the API never refunds by itself.

use crate::cli::{auth, output};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Decided ones too (newest first).
    #[arg(long)]
    pub all: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Make the refund a request asks for (sent to the wallet once).
    Approve {
        id: String,
        #[command(flatten)]
        pin: auth::PinArgs,
    },
    /// Refuse it; nothing is refunded (the POS is told).
    Decline {
        id: String,
        /// Why, for the audit log.
        #[arg(long)]
        why: Option<String>,
        #[command(flatten)]
        pin: auth::PinArgs,
    },
}

pub async fn run(a: Args, home: &std::path::Path) -> anyhow::Result<i32> {
    match a.command {
        None => {
            let engine = crate::cli::open_engine(home, false).await?;
            let list = engine.refund_requests(!a.all);
            engine.shutdown().await;
            let list = list?;
            if a.json {
                for r in &list {
                    println!("{}", serde_json::to_value(r)?);
                }
            } else if list.is_empty() {
                println!("No refund request waits.");
            } else {
                for r in &list {
                    println!(
                        "{}  {:<8} {:>12}  of {}  from {}{}",
                        r.id,
                        r.state.as_str(),
                        r.amount.display(),
                        r.payment_id,
                        r.pos_name,
                        r.reason
                            .as_deref()
                            .map(|w| format!("  — {w}"))
                            .unwrap_or_default()
                    );
                }
            }
            Ok(0)
        }
        Some(Command::Approve { id, pin }) => {
            let session = auth::manager(home, &pin).await?;
            let engine = crate::cli::open_engine(home, false).await?;
            let out = engine.approve_refund_request(&id, session.actor()).await;
            engine.shutdown().await;
            let (p, r) = out?;
            println!("{}", output::line(&p));
            println!(
                "  refund {} of {}: {}",
                r.id,
                r.amount.display(),
                r.state.as_str()
            );
            Ok(match r.state {
                till_core::payment::RefundState::Failed => 1,
                _ => 0,
            })
        }
        Some(Command::Decline { id, why, pin }) => {
            let session = auth::manager(home, &pin).await?;
            let engine = crate::cli::open_engine(home, false).await?;
            let out = engine.decline_refund_request(&id, session.actor(), why.as_deref());
            engine.shutdown().await;
            let r = out?;
            println!(
                "Declined {} ({} from {}).",
                r.id,
                r.amount.display(),
                r.pos_name
            );
            Ok(0)
        }
    }
}
