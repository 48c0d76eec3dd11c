//! Users in memory: accounts, their uniqueness rules and the purge of deleted accounts.

use accueil_domain::identity::{Email, User, UserId, Username};
use accueil_ports::StoreError;
use accueil_ports::identity::{UserWriteError, UsersRepo};
use chrono::{DateTime, Utc};

use crate::MemTx;

impl MemTx<'_> {
    fn clash(&self, user: &User) -> Option<UserWriteError> {
        let email = user.email.canonical();
        self.state
            .users
            .values()
            .filter(|u| u.id != user.id)
            .find_map(|u| {
                if u.email.canonical() == email {
                    Some(UserWriteError::EmailTaken)
                } else if user.username.is_some() && u.username == user.username {
                    Some(UserWriteError::UsernameTaken)
                } else {
                    None
                }
            })
    }
}

impl UsersRepo for MemTx<'_> {
    fn insert_user(&mut self, user: &User) -> Result<(), UserWriteError> {
        self.writable()?;
        if self.state.users.contains_key(&user.id) {
            return Err(StoreError::Conflict("users.id".into()).into());
        }
        if let Some(e) = self.clash(user) {
            return Err(e);
        }
        self.state.users.insert(user.id, user.clone());
        Ok(())
    }

    fn update_user(&mut self, user: &User) -> Result<(), UserWriteError> {
        self.writable()?;
        if !self.state.users.contains_key(&user.id) {
            return Err(UserWriteError::NotFound);
        }
        if let Some(e) = self.clash(user) {
            return Err(e);
        }
        self.state.users.insert(user.id, user.clone());
        Ok(())
    }

    fn user_by_id(&mut self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self.state.users.get(&id).cloned())
    }

    fn user_for_update(&mut self, id: UserId) -> Result<Option<User>, StoreError> {
        self.user_by_id(id)
    }

    fn user_by_email(&mut self, email: &Email) -> Result<Option<User>, StoreError> {
        let key = email.canonical();
        Ok(self
            .state
            .users
            .values()
            .find(|u| u.email.canonical() == key)
            .cloned())
    }

    fn user_by_username(&mut self, username: &Username) -> Result<Option<User>, StoreError> {
        Ok(self
            .state
            .users
            .values()
            .find(|u| u.username.as_ref() == Some(username))
            .cloned())
    }

    fn purge_deleted_before(&mut self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.writable()?;
        let gone: Vec<UserId> = self
            .state
            .users
            .values()
            .filter(|u| u.deleted_at.is_some_and(|d| d < cutoff))
            .map(|u| u.id)
            .collect();
        for id in &gone {
            self.state.users.remove(id);
        }
        let state = &mut *self.state;
        state.sessions.retain(|_, s| !gone.contains(&s.user_id));
        state
            .refresh_tokens
            .retain(|_, t| !gone.contains(&t.user_id));
        state.email_tokens.retain(|_, t| !gone.contains(&t.user_id));
        state.ws_tickets.retain(|_, t| !gone.contains(&t.user_id));
        state.api_keys.retain(|_, k| !gone.contains(&k.user_id));
        state.identities.retain(|_, i| !gone.contains(&i.user_id));
        state
            .oauth_flows
            .retain(|_, f| f.link_to.is_none_or(|u| !gone.contains(&u)));
        state
            .pending_links
            .retain(|_, l| !gone.contains(&l.user_id));
        Ok(gone.len() as u64)
    }
}
