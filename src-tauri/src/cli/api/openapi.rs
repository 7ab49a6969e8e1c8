//! `till api openapi`: the document of the routes `till api serve` serves.

pub fn run() -> anyhow::Result<i32> {
    println!(
        "{}",
        serde_json::to_string_pretty(&till_terminal_api::openapi())?
    );
    Ok(0)
}
