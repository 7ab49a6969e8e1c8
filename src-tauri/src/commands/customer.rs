//! The customer display's one command: what to show right now. Everything
//! else reaches it as `display://changed` events; it cannot change anything.

use crate::display::DisplayState;
use crate::terminal::Shared;
use tauri::State;

#[tauri::command]
pub fn customer_state(terminal: State<'_, Shared>) -> DisplayState {
    terminal.display()
}
