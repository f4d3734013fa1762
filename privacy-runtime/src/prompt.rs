//! The official prompt's styles and answers: data shared by the gate, the ledger and errors.

/// The two styles of the official prompt, which differ in the errno of a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptStyle {
    /// The privacy prompt on its own; a refusal is errno 104.
    Direct,
    /// A privacy checkbox inside an authorization pane; a refusal is errno 103.
    Coupled,
}

impl PromptStyle {
    /// The errno of a refusal in this style.
    pub fn errno(self) -> u32 {
        match self {
            PromptStyle::Direct => 104,
            PromptStyle::Coupled => 103,
        }
    }
}

/// The user's answer to the official prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "answer", content = "style")]
pub enum PromptAnswer {
    /// The user agreed.
    Accept,
    /// The user refused in a prompt of this style.
    Refuse(PromptStyle),
}
