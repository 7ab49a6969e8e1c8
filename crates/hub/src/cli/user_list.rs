//! `till-hub user list`: every office user as JSON (never a password hash).

use till_hub::office::users::Users;

pub async fn run(users: &Users) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(&users.list().await?)?);
    Ok(())
}
