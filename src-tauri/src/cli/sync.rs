//! `till sync`: deliver what is pending to the hub now and print the sync state.

#[derive(clap::Args, Debug)]
pub struct Args {
    /// First move every dead letter back to the queue.
    #[arg(long)]
    pub replay_dead: bool,
    // With --replay-dead: the manager PIN.
    #[command(flatten)]
    pub pin: super::auth::PinArgs,
    /// Print the state as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(a: Args, home: &std::path::Path) -> anyhow::Result<i32> {
    // Replaying dead letters is the manager's (as in the window); delivering is anyone's.
    let session = match a.replay_dead {
        true => Some(super::auth::manager(home, &a.pin).await?),
        false => None,
    };
    let engine = super::open_engine(home, false).await?;
    let replayed = if let Some(session) = &session {
        let n = engine.replay_dead()?;
        let _ = engine.audit(
            session.actor(),
            "sync.replay_dead",
            None,
            Some(&format!("{n} records")),
        );
        Some(n)
    } else {
        None
    };
    let result = engine.sync_now().await;
    engine.shutdown().await;
    let state = result?;
    if a.json {
        let mut v = serde_json::to_value(&state)?;
        if let Some(n) = replayed {
            v["replayed"] = serde_json::json!(n);
        }
        super::output::print_json(&v);
    } else {
        if let Some(n) = replayed {
            println!("replayed {n} dead letter(s)");
        }
        println!("hub:          {}", state.url.as_deref().unwrap_or("(off)"));
        println!("queue:        {} record(s) waiting", state.queue_length);
        if let Some(t) = state.oldest_unsynced_at {
            println!("oldest:       {t}");
        }
        match (state.last_acknowledged_sequence, state.last_acknowledged_at) {
            (Some(s), Some(t)) => println!("acknowledged: up to sequence {s} at {t}"),
            (Some(s), None) => println!("acknowledged: up to sequence {s}"),
            _ => println!("acknowledged: nothing yet"),
        }
        if let Some(hc) = state.hub_highest_contiguous {
            println!("hub holds:    every sequence up to {hc}");
        }
        println!(
            "dead letters: {}{}",
            state.dead_letters,
            if state.dead_letters > 0 {
                " (replay with `till sync --replay-dead`)"
            } else {
                ""
            }
        );
        if state.endpoint_gone {
            println!("endpoint:     GONE — the hub disabled this terminal; delivery stopped");
        }
        if let Some(e) = &state.last_error {
            println!("last error:   {e}");
        }
    }
    let clean = state.queue_length == 0 && state.dead_letters == 0 && !state.endpoint_gone;
    Ok(if clean { 0 } else { 1 })
}
