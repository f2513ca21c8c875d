//! What a video request is, in the product's own terms: resolution, ratio, duration and
//! the kinds of reference a member can attach. Shared by the config, the API client, the
//! ledger's pricing and the job queue.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Output resolution; it also sets the price per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Resolution {
    #[serde(rename = "480p")]
    P480,
    #[serde(rename = "720p")]
    P720,
    #[serde(rename = "1080p")]
    P1080,
}

impl Resolution {
    pub const ALL: [Resolution; 3] = [Resolution::P480, Resolution::P720, Resolution::P1080];

    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::P480 => "480p",
            Resolution::P720 => "720p",
            Resolution::P1080 => "1080p",
        }
    }

    /// Vertical pixel count, for comparing against a server's maximum.
    pub fn lines(self) -> u32 {
        match self {
            Resolution::P480 => 480,
            Resolution::P720 => 720,
            Resolution::P1080 => 1080,
        }
    }
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Resolution {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Resolution::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("`{s}` is not a resolution: use 480p, 720p or 1080p"))
    }
}

/// Output aspect ratio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Ratio {
    #[serde(rename = "16:9")]
    Landscape,
    #[serde(rename = "9:16")]
    Portrait,
    #[serde(rename = "1:1")]
    Square,
    #[serde(rename = "3:4")]
    Classic,
}

impl Ratio {
    pub const ALL: [Ratio; 4] = [
        Ratio::Landscape,
        Ratio::Portrait,
        Ratio::Square,
        Ratio::Classic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Ratio::Landscape => "16:9",
            Ratio::Portrait => "9:16",
            Ratio::Square => "1:1",
            Ratio::Classic => "3:4",
        }
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Ratio {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ratio::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| format!("`{s}` is not a ratio: use 16:9, 9:16, 1:1 or 3:4"))
    }
}

/// The kind of a reference file: it decides which `reference_*_urls` list it goes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReferenceKind {
    Image,
    Video,
    Audio,
}

impl ReferenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReferenceKind::Image => "image",
            ReferenceKind::Video => "video",
            ReferenceKind::Audio => "audio",
        }
    }
}

impl fmt::Display for ReferenceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_and_ratio_round_trip_through_text() {
        for r in Resolution::ALL {
            assert_eq!(r.as_str().parse::<Resolution>().unwrap(), r);
        }
        for r in Ratio::ALL {
            assert_eq!(r.as_str().parse::<Ratio>().unwrap(), r);
        }
        assert!(
            "4k".parse::<Resolution>()
                .unwrap_err()
                .contains("480p, 720p or 1080p")
        );
        assert!("2:1".parse::<Ratio>().is_err());
    }
}
