//! LLM drafting: the evidence draft's narrative rewritten by any OpenAI-compatible model, from a
//! redacted prompt, verified claim by claim against the evidence before it is stored.

pub mod client;
pub mod output;
pub mod prompt;
pub mod redact;

use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
};
use serde_json::Value;

use crate::config::Config;
use crate::domain::postmortem::Postmortem;
use crate::evidence::Bundle;
use crate::metrics::Metrics;
use client::{Completion, LlmClient, LlmError};
use output::LlmDraft;
use prompt::Prompts;
use redact::Redactor;

/// Why the model's draft was not used (the evidence draft stands).
#[derive(Debug, thiserror::Error)]
pub enum LlmFailure {
    #[error(transparent)]
    Request(#[from] LlmError),
    #[error("the model's answer did not match the schema, even after a repair request: {0}")]
    Invalid(String),
    #[error(transparent)]
    Prompt(#[from] prompt::PromptError),
}

impl LlmFailure {
    pub fn kind(&self) -> &'static str {
        match self {
            LlmFailure::Request(e) => e.kind(),
            LlmFailure::Invalid(_) => "invalid",
            LlmFailure::Prompt(_) => "prompt",
        }
    }
}

/// The model, its prompts and the redactor.
pub struct LlmDrafter {
    client: LlmClient,
    prompts: Prompts,
    redactor: Redactor,
    schema: Value,
    token_budget: usize,
    restore: bool,
    metrics: Metrics,
}

impl std::fmt::Debug for LlmDrafter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmDrafter")
            .field("client", &self.client)
            .field("prompts", &self.prompts)
            .finish_non_exhaustive()
    }
}

impl LlmDrafter {
    /// The LLM drafter when a model is configured.
    pub fn from_config(config: &Config, metrics: Metrics) -> anyhow::Result<Option<Self>> {
        let Some(client) = LlmClient::from_config(config)? else {
            return Ok(None);
        };
        let prompts = Prompts::load(
            config.llm.prompts_dir.as_deref(),
            config.llm.prompt_label.as_deref(),
        )?;
        Ok(Some(Self {
            client,
            prompts,
            redactor: Redactor::new(&config.llm.redact_patterns)?,
            schema: output::strict_schema(),
            token_budget: config.llm.token_budget,
            restore: config.llm.restore_redacted,
            metrics,
        }))
    }

    pub fn model(&self) -> &str {
        self.client.model()
    }

    pub fn prompt_version(&self) -> &str {
        self.prompts.version()
    }

    /// Asks the model to write the narrative of `evidence` (the evidence draft of `bundle`) and
    /// returns the verified LLM draft. Times, the timeline, changes and anomalies stay the
    /// evidence draft's.
    pub async fn draft(
        &self,
        bundle: &Bundle,
        evidence: &Postmortem,
    ) -> Result<Postmortem, LlmFailure> {
        let prompt = self
            .prompts
            .render(bundle, evidence, &self.schema, self.token_budget)?;
        let mut redaction = self.redactor.session();
        let system = redaction.redact(&prompt.system);
        let user = redaction.redact(&prompt.user);
        for (kind, n) in redaction.counts() {
            self.metrics
                .redactions
                .with_label_values(&[kind.as_str()])
                .inc_by(*n);
        }
        let mut messages: Vec<ChatCompletionRequestMessage> = vec![
            ChatCompletionRequestSystemMessage::from(system).into(),
            ChatCompletionRequestUserMessage::from(user).into(),
        ];

        let mut usage = Usage::default();
        let first = self.request(messages.clone(), &mut usage).await?;
        let answer = match output::parse(&first.content) {
            Ok(a) => a,
            Err(problem) => {
                // One repair attempt: show the model its answer and what is wrong with it.
                self.count("invalid");
                tracing::warn!(model = %self.model(), %problem, "invalid model output; asking for a repair");
                messages.push(ChatCompletionRequestAssistantMessage::from(first.content).into());
                messages.push(
                    ChatCompletionRequestUserMessage::from(format!(
                        "That answer is not valid for the required JSON schema: {problem}. \
                         Reply again with only the corrected JSON object."
                    ))
                    .into(),
                );
                let second = self.request(messages, &mut usage).await?;
                output::parse(&second.content).map_err(|e| {
                    self.count("invalid");
                    LlmFailure::Invalid(e)
                })?
            }
        };
        let answer = if self.restore {
            restore(answer, &|t| redaction.restore(t))
        } else {
            answer
        };
        let (mut doc, verification) = output::verify_into(answer, evidence, &bundle.evidence_ids());
        if !verification.unknown_ids.is_empty() {
            tracing::warn!(
                model = %self.model(),
                unknown = ?verification.unknown_ids,
                "the model cited evidence that does not exist; citations removed"
            );
        }
        doc.header.drafter = "llm".into();
        doc.header.model = Some(self.model().to_string());
        doc.header.prompt_version = Some(self.prompt_version().to_string());
        let p = &mut doc.provenance;
        p.drafter = "llm".into();
        p.model = doc.header.model.clone();
        p.prompt_version = doc.header.prompt_version.clone();
        p.server_host = Some(self.client.host().to_string());
        p.response_format = usage.mode.map(|m| m.as_str().to_string());
        p.prompt_tokens = Some(usage.prompt);
        p.completion_tokens = Some(usage.completion);
        p.llm_latency_ms = Some((usage.latency_ms * 10.0).round() / 10.0);
        p.llm_requests = usage.requests;
        p.redactions = redaction.total();
        p.prompt_items_omitted = prompt.omitted;
        p.removed_citations = verification.unknown_ids.into_iter().collect();
        p.unsupported_hypotheses = verification.unsupported;
        Ok(doc)
    }

    async fn request(
        &self,
        messages: Vec<ChatCompletionRequestMessage>,
        usage: &mut Usage,
    ) -> Result<Completion, LlmFailure> {
        let model = self.model().to_string();
        let (refused, result) = self.client.complete(messages, &self.schema).await;
        self.metrics
            .llm_requests
            .with_label_values(&[self.model(), "format_refused"])
            .inc_by(u64::from(refused));
        match &result {
            Ok(c) => {
                self.count("ok");
                self.metrics
                    .llm_latency
                    .with_label_values(&[model.as_str()])
                    .observe(c.latency.as_secs_f64());
                self.metrics
                    .llm_tokens
                    .with_label_values(&["prompt", model.as_str()])
                    .inc_by(c.prompt_tokens);
                self.metrics
                    .llm_tokens
                    .with_label_values(&["completion", model.as_str()])
                    .inc_by(c.completion_tokens);
                usage.prompt += c.prompt_tokens;
                usage.completion += c.completion_tokens;
                usage.latency_ms += c.latency.as_secs_f64() * 1000.0;
                usage.requests += 1;
                usage.mode = Some(c.mode);
            }
            Err(e) => self.count(e.kind()),
        }
        Ok(result?)
    }

    fn count(&self, outcome: &str) {
        self.metrics
            .llm_requests
            .with_label_values(&[self.model(), outcome])
            .inc();
    }
}

#[derive(Default)]
struct Usage {
    prompt: u64,
    completion: u64,
    latency_ms: f64,
    requests: u32,
    mode: Option<client::Mode>,
}

/// The answer with `f` applied to every piece of prose (placeholders put back).
fn restore(mut a: LlmDraft, f: &dyn Fn(&str) -> String) -> LlmDraft {
    a.summary = f(&a.summary);
    for list in [
        &mut a.impact,
        &mut a.contributing_factors,
        &mut a.what_went_well,
        &mut a.what_went_poorly,
    ] {
        for x in list.iter_mut() {
            x.text = f(&x.text);
        }
    }
    for h in &mut a.root_cause_hypotheses {
        h.hypothesis = f(&h.hypothesis);
    }
    for x in &mut a.action_items {
        x.text = f(&x.text);
        x.owner = x.owner.as_deref().map(f);
    }
    a
}
