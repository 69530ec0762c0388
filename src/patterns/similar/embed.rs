//! Optional embeddings for similarity (`POSTMORTEM_EMBEDDING_MODEL`), from any OpenAI-compatible
//! `/embeddings` endpoint through async-openai. Incidents are embedded once (their text's hash
//! decides when again) and the vectors are stored, so replicas share them.

use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::embeddings::{CreateEmbeddingRequest, EmbeddingInput};

use crate::config::Config;

/// Incidents sent in one request.
pub const BATCH: usize = 64;

pub struct Embedder {
    client: Client<OpenAIConfig>,
    model: String,
    /// The share of the blended score that comes from embeddings.
    pub weight: f32,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl Embedder {
    pub fn from_config(config: &Config) -> anyhow::Result<Option<Self>> {
        let Some(model) = config.embedding_model.clone() else {
            return Ok(None);
        };
        let (client, _) = crate::llm::client::openai_client(config, Duration::from_secs(20))?;
        Ok(Some(Self {
            client,
            model,
            weight: config.embedding_weight,
        }))
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// Unit vectors for `texts`, in order.
    pub async fn embed(&self, texts: Vec<String>) -> anyhow::Result<Vec<Vec<f32>>> {
        let n = texts.len();
        let response = self
            .client
            .embeddings()
            .create(CreateEmbeddingRequest {
                model: self.model.clone(),
                input: EmbeddingInput::StringArray(texts),
                ..Default::default()
            })
            .await?;
        let mut data = response.data;
        data.sort_by_key(|e| e.index);
        if data.len() != n {
            anyhow::bail!("asked for {n} embeddings, got {}", data.len());
        }
        Ok(data.into_iter().map(|e| unit(e.embedding)).collect())
    }
}

pub fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
    v
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
