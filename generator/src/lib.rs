//! buurtbord's content model and static site generator.
//!
//! The build's steps, in the order data passes through them: [`config`] and [`content`]
//! load and check `content/`; [`markdown`] renders residents' text safely; [`listing`]
//! groups posts; [`views`] prepares what templates see; [`theme`] renders; [`feeds`] and
//! [`sitemap`] write the XML; [`output`] swaps the finished site in. [`build`] runs them.

pub mod build;
pub mod config;
pub mod content;
pub mod dates;
pub mod error;
pub mod feeds;
pub mod front_matter;
pub mod listing;
pub mod live;
pub mod markdown;
pub mod output;
pub mod page;
pub mod post;
mod posts_watch;
pub mod preview;
pub mod render;
pub mod sitemap;
pub mod slug;
pub mod text;
pub mod theme;
pub mod urls;
pub mod views;

pub use build::{BuildOptions, BuildReport, build, check};
pub use config::Site;
pub use error::{BuildError, ContentError};
pub use live::{LiveSite, UpdateReport};
pub use preview::Preview;
pub use render::Renderer;
