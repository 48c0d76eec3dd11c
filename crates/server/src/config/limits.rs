//! Rate limits: `count/period` per key, each enforced by the use case it protects.

use accueil_domain::limits::Rate;

use super::declare::section;

section! {
    /// Rate limits (`10/15m`: 10 per 15 minutes).
    pub struct Limits in "limits" () {
        /// logins per client address
        login_ip: Rate = "30/5m", env "ACCUEIL_RATE_LOGIN_IP", sample "60/1m";
        /// logins per account name, existing or not
        login_account: Rate = "10/15m", env "ACCUEIL_RATE_LOGIN_ACCOUNT", sample "20/15m";
        /// registrations per client address
        register_ip: Rate = "10/1h", env "ACCUEIL_RATE_REGISTER_IP", sample "20/1h";
        /// registration, forgot-password, resend-verification and address-change requests per
        /// client address
        mail_ip: Rate = "20/1h", env "ACCUEIL_RATE_MAIL_IP", sample "40/1h";
        /// the same per target address (or account, for address changes)
        mail_account: Rate = "5/1h", env "ACCUEIL_RATE_MAIL_ACCOUNT", sample "3/1h";
        /// couple-join attempts per user (a code has a million values)
        join_user: Rate = "10/15m", env "ACCUEIL_RATE_JOIN_USER", sample "5/15m";
        /// couple-join attempts per client address
        join_ip: Rate = "30/15m", env "ACCUEIL_RATE_JOIN_IP", sample "60/15m";
        /// realtime tickets (`POST /api/v1/ws/ticket`) per user
        ws_ticket_user: Rate = "20/1m", env "ACCUEIL_RATE_WS_TICKET_USER", sample "10/1m";
        /// tenant invitations (each mails a link) per inviting member
        invite_user: Rate = "30/1h", env "ACCUEIL_RATE_INVITE_USER", sample "10/1h";
    }
}

impl Limits {
    /// The identity use cases' limits.
    #[must_use]
    pub fn identity(&self) -> accueil_app::identity::RateLimits {
        accueil_app::identity::RateLimits {
            login_ip: self.login_ip,
            login_account: self.login_account,
            register_ip: self.register_ip,
            mail_ip: self.mail_ip,
            mail_account: self.mail_account,
        }
    }

    /// The realtime use cases' limits.
    #[must_use]
    pub fn realtime(&self) -> accueil_app::realtime::RealtimeSettings {
        accueil_app::realtime::RealtimeSettings {
            ticket_user: self.ws_ticket_user,
        }
    }

    /// The couples use cases' limits.
    #[must_use]
    pub fn couples(&self) -> accueil_app::couples::CouplesSettings {
        accueil_app::couples::CouplesSettings {
            join_user: self.join_user,
            join_ip: self.join_ip,
        }
    }
}
