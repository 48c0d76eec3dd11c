//! A tenant's customers: `GET`/`POST /api/v1/tenants/{slug}/customers`,
//! `GET`/`PATCH`/`DELETE …/customers/{id}`.

use accueil_app::queues::{ChangeItemError, InTenantError, InTenantLookupError};
use accueil_domain::queues::{ConsentFields, Customer, CustomerChanges, NewCustomer};
use accueil_domain::validation::ValidationErrors;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::catalogue::{ItemPage, created};
use crate::auth::Auth;
use crate::couples::Paging;
use crate::error::ApiError;
use crate::json::{FromBody, Now, Query, Valid, patch_of};
use crate::problems::{Errors, InvalidCursor};

type App = web::Data<accueil_app::App>;

pub(super) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_customers)
        .service(create_customer)
        .service(get_customer)
        .service(update_customer)
        .service(delete_customer);
}

/// The channels a customer agreed to be reached by.
#[derive(Serialize, ToSchema)]
pub struct ConsentBody {
    /// Text messages.
    pub sms: bool,
    /// WhatsApp.
    pub whatsapp: bool,
    /// E-mail.
    pub email: bool,
    /// Push notifications.
    pub push: bool,
}

/// A customer.
#[derive(Serialize, ToSchema)]
pub struct CustomerBody {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: Option<String>,
    /// Phone number in E.164 (`+33612345678`).
    pub phone: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// What they agreed to be reached by.
    pub consent: ConsentBody,
    /// `en` or `fr`, when not the tenant's.
    pub language: Option<&'static str>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&Customer> for CustomerBody {
    fn from(c: &Customer) -> Self {
        Self {
            id: c.id,
            name: c.name.as_ref().map(|n| n.as_str().to_owned()),
            phone: c.phone.as_ref().map(|p| p.as_str().to_owned()),
            email: c.email.as_ref().map(|e| e.as_str().to_owned()),
            consent: ConsentBody {
                sms: c.consent.sms,
                whatsapp: c.consent.whatsapp,
                email: c.consent.email,
                push: c.consent.push,
            },
            language: c.language.map(|l| l.as_str()),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// Consents given or withdrawn: absent channels are kept (`false` for a new customer). SMS
/// and WhatsApp need a phone, e-mail an address (422 `requires_phone`, `requires_email`).
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    /// Text messages.
    pub sms: Option<bool>,
    /// WhatsApp.
    pub whatsapp: Option<bool>,
    /// E-mail.
    pub email: Option<bool>,
    /// Push notifications.
    pub push: Option<bool>,
}

/// The consent fields given, none when absent.
fn consent(c: Option<ConsentRequest>) -> ConsentFields {
    let c = c.unwrap_or_default();
    ConsentFields {
        sms: c.sms,
        whatsapp: c.whatsapp,
        email: c.email,
        push: c.push,
    }
}

/// A customer to add.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerRequest {
    /// 1 to 100 characters.
    #[schema(example = "Camille Martin", format = "text:100")]
    pub name: Option<String>,
    /// An international number with its country code (`+33 6 12 34 56 78`); stored in E.164.
    #[schema(example = "+33 6 12 34 56 78", format = "phone")]
    pub phone: Option<String>,
    /// E-mail address.
    #[schema(format = "email")]
    pub email: Option<String>,
    /// Consents.
    #[serde(default, deserialize_with = "crate::json::object")]
    pub consent: Option<ConsentRequest>,
    /// `en` or `fr`.
    #[schema(format = "enum:en,fr")]
    pub language: Option<String>,
}

impl FromBody for NewCustomer {
    type Body = CustomerRequest;
    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        NewCustomer::parse(
            b.name.as_deref(),
            b.phone.as_deref(),
            b.email.as_deref(),
            consent(b.consent),
            b.language.as_deref(),
        )
    }
}

/// Customer changes: absent fields are kept; `null` clears the name, phone, e-mail or language
/// (clearing a phone or e-mail withdraws the consents that need it).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerPatchRequest {
    /// 1 to 100 characters, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<String>, nullable, format = "text:100")]
    pub name: Option<Option<String>>,
    /// An international number, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<String>, nullable, format = "phone")]
    pub phone: Option<Option<String>>,
    /// E-mail address, or `null`.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<String>, nullable, format = "email")]
    pub email: Option<Option<String>>,
    /// Consents given or withdrawn.
    #[serde(default, deserialize_with = "crate::json::object")]
    pub consent: Option<ConsentRequest>,
    /// `en` or `fr`, or `null` for the tenant's.
    #[serde(default, deserialize_with = "crate::json::nullable")]
    #[schema(value_type = Option<String>, nullable, format = "enum:en,fr")]
    pub language: Option<Option<String>>,
}

impl FromBody for CustomerChanges {
    type Body = CustomerPatchRequest;
    fn from_body(b: Self::Body, _: Now) -> Result<Self, ValidationErrors> {
        CustomerChanges::parse(
            patch_of(b.name),
            patch_of(b.phone),
            patch_of(b.email),
            consent(b.consent),
            patch_of(b.language),
        )
    }
}

item_routes! {
    "/tenants/{slug}/customers", "/tenants/{slug}/customers/{id}", "customers", CustomerBody, ItemPage<CustomerBody>,
    list list_customers => customers, "The tenant's customers (`customers:read`).";
    create create_customer(NewCustomer, CustomerRequest) => create_customer, InTenantError, "Add a customer (`customers:write`).";
    get get_customer => customer, "One customer (`customers:read`).";
    update update_customer(CustomerChanges, CustomerPatchRequest) => edit_customer, ChangeItemError, "Change a customer (`customers:write`); the consents are checked against the phone and e-mail that result.";
    delete delete_customer => delete_customer, InTenantLookupError, "Delete a customer (`customers:write`).";
}
