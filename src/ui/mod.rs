//! Views and widgets drawn with ratatui from the app state.
