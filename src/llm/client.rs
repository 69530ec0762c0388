//! The model client, on async-openai: any OpenAI-compatible server (OpenAI, Azure OpenAI, vLLM,
//! Ollama, llama.cpp). Structured output first (`json_schema`, strict); a server that refuses the
//! way the answer's shape was asked for (any status, 4xx or 5xx, whose message names it:
//! llama.cpp's Python server answers `json_schema` with a 500 naming `response_format`) is asked
//! again with `json_object`, then with a forced tool call, then with no format at all (the schema
//! is always in the system prompt), and the client remembers what its server accepted.
//! async-openai's own retry layer retries 429 and 5xx (three times, honouring `Retry-After`), so a
//! refusal sent as a 500 is seen after those retries, once per server; we add no second retry
//! loop. Every request has a timeout.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionMessageToolCalls, ChatCompletionNamedToolChoice, ChatCompletionRequestMessage,
    ChatCompletionTool, ChatCompletionToolChoiceOption, ChatCompletionTools,
    CreateChatCompletionRequest, FunctionObject, ResponseFormat, ResponseFormatJsonSchema,
};
use secrecy::ExposeSecret;
use serde_json::Value;

use crate::config::Config;

const TOOL_NAME: &str = "write_postmortem";
const OPENAI_BASE: &str = "https://api.openai.com/v1";

/// How the answer's shape is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    JsonSchema = 0,
    JsonObject = 1,
    ToolCall = 2,
    /// No `response_format` and no tools: the schema in the system prompt is all.
    Prompt = 3,
}

impl Mode {
    fn from_u8(v: u8) -> Self {
        match v {
            0 => Mode::JsonSchema,
            1 => Mode::JsonObject,
            2 => Mode::ToolCall,
            _ => Mode::Prompt,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::JsonSchema => "json_schema",
            Mode::JsonObject => "json_object",
            Mode::ToolCall => "tool_call",
            Mode::Prompt => "prompt",
        }
    }

    fn next(self) -> Option<Self> {
        match self {
            Mode::JsonSchema => Some(Mode::JsonObject),
            Mode::JsonObject => Some(Mode::ToolCall),
            Mode::ToolCall => Some(Mode::Prompt),
            Mode::Prompt => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the model server answered {status}: {message}")]
    Api { status: u16, message: String },
    #[error("the model server did not answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot reach the model server: {0}")]
    Transport(String),
    #[error("the model returned no content")]
    Empty,
}

impl LlmError {
    /// A short label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            LlmError::Api { status: 429, .. } => "rate_limited",
            LlmError::Api { status, .. } if *status >= 500 => "server_error",
            LlmError::Api { .. } => "rejected",
            LlmError::Timeout(_) => "timeout",
            LlmError::Transport(_) => "unreachable",
            LlmError::Empty => "empty",
        }
    }
}

/// One answer from the model.
#[derive(Debug, Clone)]
pub struct Completion {
    pub content: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub mode: Mode,
    pub latency: Duration,
}

/// A configured model.
pub struct LlmClient {
    client: Client<OpenAIConfig>,
    model: String,
    host: String,
    timeout: Duration,
    max_tokens: u32,
    temperature: f32,
    mode: AtomicU8,
    /// Also send the older `max_tokens` (any server but OpenAI's and Azure's).
    send_max_tokens: bool,
}

impl std::fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out: async-openai's config holds it as a secret.
        f.debug_struct("LlmClient")
            .field("model", &self.model)
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl LlmClient {
    /// The client when `POSTMORTEM_LLM_MODEL` is set, else `None` (the evidence drafter alone).
    pub fn from_config(config: &Config) -> anyhow::Result<Option<Self>> {
        let Some(model) = config.llm_model.clone() else {
            return Ok(None);
        };
        let timeout = Duration::from_secs(config.llm.timeout_secs.max(1));
        let (client, base) = openai_client(config, timeout)?;
        let host = reqwest::Url::parse(&base)
            .ok()
            .and_then(|u| {
                u.host_str().map(|h| match u.port() {
                    Some(p) => format!("{h}:{p}"),
                    None => h.to_string(),
                })
            })
            .unwrap_or_else(|| base.clone());
        Ok(Some(Self {
            client,
            model,
            host,
            timeout,
            max_tokens: config.llm.max_output_tokens,
            temperature: config.llm.temperature,
            mode: AtomicU8::new(Mode::JsonSchema as u8),
            send_max_tokens: !(base.contains("api.openai.com")
                || base.contains(".openai.azure.com")),
        }))
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// The server's host (and port), for the draft's receipt.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Asks for an answer shaped by `schema`, falling back to looser ways of asking when the
    /// server refuses the stricter one; also returns how many refusals it met on the way.
    pub async fn complete(
        &self,
        messages: Vec<ChatCompletionRequestMessage>,
        schema: &Value,
    ) -> (u32, Result<Completion, LlmError>) {
        let mut mode = Mode::from_u8(self.mode.load(Ordering::Relaxed));
        let mut refused = 0;
        loop {
            match self.once(messages.clone(), schema, mode).await {
                Err(LlmError::Api { status, message })
                    if rejects_format(status, &message) && mode.next().is_some() =>
                {
                    let next = mode.next().unwrap_or(mode);
                    tracing::warn!(
                        model = %self.model,
                        status,
                        from = mode.as_str(),
                        to = next.as_str(),
                        "the model server refused the response format; asking again"
                    );
                    mode = next;
                    refused += 1;
                    self.mode.store(mode as u8, Ordering::Relaxed);
                }
                other => return (refused, other),
            }
        }
    }

    async fn once(
        &self,
        mut messages: Vec<ChatCompletionRequestMessage>,
        schema: &Value,
        mode: Mode,
    ) -> Result<Completion, LlmError> {
        let mut request = CreateChatCompletionRequest {
            model: self.model.clone(),
            max_completion_tokens: Some(self.max_tokens),
            temperature: Some(self.temperature),
            ..Default::default()
        };
        if self.send_max_tokens {
            // Servers that predate `max_completion_tokens` (llama-cpp-python 0.3) ignore it and
            // write until the context is full; OpenAI's reasoning models refuse `max_tokens`.
            #[allow(deprecated)]
            {
                request.max_tokens = Some(self.max_tokens);
            }
        }
        match mode {
            Mode::JsonSchema => {
                request.response_format = Some(ResponseFormat::JsonSchema {
                    json_schema: ResponseFormatJsonSchema {
                        name: "postmortem".into(),
                        description: Some("A postmortem draft with cited evidence ids".into()),
                        schema: schema.clone(),
                        strict: Some(true),
                    },
                });
            }
            Mode::JsonObject => {
                request.response_format = Some(ResponseFormat::JsonObject);
            }
            Mode::Prompt => {}
            Mode::ToolCall => {
                request.tools = Some(vec![ChatCompletionTools::Function(ChatCompletionTool {
                    function: FunctionObject {
                        name: TOOL_NAME.into(),
                        description: Some("Store the postmortem draft".into()),
                        parameters: Some(schema.clone()),
                        strict: Some(true),
                    },
                })]);
                request.tool_choice = Some(ChatCompletionToolChoiceOption::Function(
                    ChatCompletionNamedToolChoice::from(TOOL_NAME),
                ));
            }
        }
        request.messages = std::mem::take(&mut messages);
        let started = Instant::now();
        let response = self
            .client
            .chat()
            .create(request)
            .await
            .map_err(|e| self.error(e))?;
        let latency = started.elapsed();
        let usage = response.usage.as_ref();
        let message = response.choices.into_iter().next().map(|c| c.message);
        let content = match (mode, message) {
            (_, None) => None,
            (Mode::ToolCall, Some(m)) => m
                .tool_calls
                .into_iter()
                .flatten()
                .find_map(|c| match c {
                    ChatCompletionMessageToolCalls::Function(f) => Some(f.function.arguments),
                    ChatCompletionMessageToolCalls::Custom(_) => None,
                })
                .or(m.content),
            (_, Some(m)) => m.content,
        };
        let content = content
            .filter(|c| !c.trim().is_empty())
            .ok_or(LlmError::Empty)?;
        Ok(Completion {
            content,
            prompt_tokens: usage.map_or(0, |u| u64::from(u.prompt_tokens)),
            completion_tokens: usage.map_or(0, |u| u64::from(u.completion_tokens)),
            mode,
            latency,
        })
    }

    fn error(&self, e: OpenAIError) -> LlmError {
        match e {
            OpenAIError::ApiError(r) => LlmError::Api {
                status: r.status_code.as_u16(),
                message: r.api_error.message,
            },
            OpenAIError::Reqwest(e) if e.is_timeout() => LlmError::Timeout(self.timeout),
            OpenAIError::Reqwest(e) => LlmError::Transport(e.to_string()),
            OpenAIError::JSONDeserialize(e, body) => LlmError::Api {
                status: 200,
                message: format!(
                    "unreadable response ({e}): {}",
                    body.chars().take(200).collect::<String>()
                ),
            },
            other => LlmError::Transport(other.to_string()),
        }
    }
}

/// An async-openai client for `OPENAI_BASE_URL` (OpenAI's when unset) and `OPENAI_API_KEY`, each
/// request limited to `timeout`; also the base URL it uses. Shared by chat and embeddings.
pub fn openai_client(
    config: &Config,
    timeout: Duration,
) -> anyhow::Result<(Client<OpenAIConfig>, String)> {
    let base = config
        .openai_base_url
        .as_deref()
        .unwrap_or(OPENAI_BASE)
        .trim_end_matches('/')
        .to_string();
    let mut oc = OpenAIConfig::new().with_api_base(&base);
    if let Some(key) = &config.openai_api_key {
        oc = oc.with_api_key(key.expose_secret());
        // Azure OpenAI's v1 endpoint takes the key in `api-key` rather than as a bearer token.
        if base.contains(".openai.azure.com") {
            oc = oc.with_header("api-key", key.expose_secret())?;
        }
    }
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(5))
        .build()?;
    Ok((Client::with_config(oc).with_http_client(http), base))
}

/// Whether an error says the server does not support the way we asked for the answer's shape:
/// any error status whose message names it (llama.cpp's Python server refuses `json_schema` with
/// a 500), but not one about authentication, the route or model, time or rate.
fn rejects_format(status: u16, message: &str) -> bool {
    if status < 400 || matches!(status, 401 | 403 | 404 | 408 | 429) {
        return false;
    }
    let m = message.to_lowercase();
    [
        "response_format",
        "json_schema",
        "json_object",
        "tool",
        "structured",
        "schema",
        "not supported",
        "unsupported",
    ]
    .iter()
    .any(|w| m.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_naming_the_format_moves_on_whatever_its_status() {
        // llama-cpp-python 0.3: FastAPI's validation error, answered as a 500.
        let llama = "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', \
                     'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\"}";
        assert!(rejects_format(500, llama));
        assert!(rejects_format(
            400,
            "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model."
        ));
        assert!(rejects_format(422, "tools are not supported"));
        assert!(!rejects_format(500, "Internal Server Error"));
        assert!(!rejects_format(
            429,
            "rate limit on response_format requests"
        ));
        assert!(!rejects_format(401, "invalid api key for json_schema"));
        assert!(!rejects_format(404, "model not found"));
    }

    #[test]
    fn modes_loosen_to_the_prompt_alone_and_stop() {
        let mut m = Mode::JsonSchema;
        let mut seen = vec![m.as_str()];
        while let Some(n) = m.next() {
            m = n;
            seen.push(m.as_str());
        }
        assert_eq!(seen, ["json_schema", "json_object", "tool_call", "prompt"]);
        assert_eq!(Mode::from_u8(Mode::Prompt as u8), Mode::Prompt);
    }
}
