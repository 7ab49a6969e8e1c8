//! `till api serve`: the terminal API without a window, for a headless
//! counter (and the tests of the real binary). It does the data directory's
//! background work (pollers, sweeper, sync), serves the page wallets'
//! callback URLs so a browser on this machine can finish their pages, and
//! serves `[api]` until Ctrl-C or SIGTERM.

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Listen here instead of `[api] listen` (e.g. 127.0.0.1:0 for any free port).
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
}

pub async fn run(a: Args, home: &std::path::Path) -> anyhow::Result<i32> {
    let engine = crate::cli::open_engine(home, true).await?;
    let mut api = engine.config().api.clone();
    if let Some(l) = a.listen {
        api.listen = l.to_string();
    }
    let served = async {
        let opts = till_terminal_api::ApiOptions::from_config(&api)?;
        let callbacks = till_terminal_api::callbacks::listen(
            &engine,
            &till_terminal_api::callbacks::page_wallets(&engine),
        )
        .await?;
        let handle = till_terminal_api::start(engine.clone(), opts).await?;
        anyhow::Ok((handle, callbacks))
    }
    .await;
    let (handle, callbacks) = match served {
        Ok(s) => s,
        Err(e) => {
            engine.shutdown().await;
            return Err(e);
        }
    };
    if !api.enabled {
        eprintln!(
            "note: [api] enabled is false; the app will not serve the API (this command does)."
        );
    }
    // One line a script can wait for.
    println!("till api listening on {}", handle.base_url());
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    handle.shutdown().await;
    for c in callbacks {
        c.abort();
    }
    engine.shutdown().await;
    Ok(0)
}
