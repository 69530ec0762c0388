//! Web sign-in sessions, stored server-side so they expire and sign-out ends them. Only the
//! SHA-256 of the cookie's secret is kept, so reading the database does not let anyone in.

use sqlx::Row;

use super::{Result, Store};
use crate::domain::Millis;

/// A live session.
#[derive(Clone)]
pub struct WebSession {
    pub user: String,
    /// `token`, `proxy` or `local`.
    pub method: String,
    /// The synchronizer token every form of this session carries.
    pub csrf_token: String,
    pub expires_at: Millis,
}

impl std::fmt::Debug for WebSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSession")
            .field("user", &self.user)
            .field("method", &self.method)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Stores a session under the hash of its secret; drops expired sessions on the way.
    pub async fn create_web_session(
        &self,
        id_hash: &str,
        s: &WebSession,
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO web_sessions (id_hash, user_name, method, csrf_token, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id_hash)
        .bind(&s.user)
        .bind(&s.method)
        .bind(&s.csrf_token)
        .bind(now)
        .bind(s.expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The unexpired session with this hash.
    pub async fn web_session(&self, id_hash: &str, now: Millis) -> Result<Option<WebSession>> {
        let row = sqlx::query(
            "SELECT user_name, method, csrf_token, expires_at FROM web_sessions \
             WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(WebSession {
                user: r.try_get("user_name")?,
                method: r.try_get("method")?,
                csrf_token: r.try_get("csrf_token")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    pub async fn delete_web_session(&self, id_hash: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM web_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
