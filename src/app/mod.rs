//! The TUI's event loop, actions and state: keys become actions, actions update state, the
//! newest model is drawn.
