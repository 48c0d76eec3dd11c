//! A tenant's customers in SQL, on the view bound to it.

use accueil_domain::identity::{Email, Language};
use accueil_domain::queues::{Consent, Customer, ItemName, Phone};
use accueil_ports::StoreError;
use accueil_ports::queues::CustomersRepo;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use super::catalogue::{FIRST, one, page, update};
use super::corrupt;
use crate::one::OneRow;
use crate::schema::customers;
use crate::tx::{TenantView, all, naive, store_error, utc, uuid};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = customers)]
struct CustomerRow {
    id: String,
    tenant_id: String,
    name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    consent_sms: bool,
    consent_whatsapp: bool,
    consent_email: bool,
    consent_push: bool,
    language: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<CustomerRow> for Customer {
    type Error = StoreError;
    fn try_from(r: CustomerRow) -> Result<Self, StoreError> {
        Ok(Customer {
            id: uuid(&r.id)?,
            name: r.name.map(ItemName::from_trusted),
            phone: r.phone.map(Phone::from_trusted),
            email: r.email.map(Email::from_trusted),
            consent: Consent {
                sms: r.consent_sms,
                whatsapp: r.consent_whatsapp,
                email: r.consent_email,
                push: r.consent_push,
            },
            language: r
                .language
                .map(|l| Language::parse(&l).ok_or_else(|| corrupt("customer language", &l)))
                .transpose()?,
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
}

impl CustomersRepo for TenantView<'_> {
    fn customers(&mut self, after: Option<Uuid>, limit: u32) -> Result<Vec<Customer>, StoreError> {
        page!(self, customers, CustomerRow, after, limit)
    }

    fn customer(&mut self, id: Uuid) -> Result<Option<Customer>, StoreError> {
        one!(self, customers, CustomerRow, id)
    }

    fn insert_customer(&mut self, c: &Customer) -> Result<(), StoreError> {
        self.writable()?;
        self.bind()?;
        diesel::insert_into(customers::table)
            .values(CustomerRow {
                id: c.id.to_string(),
                tenant_id: self.tenant.to_string(),
                name: c.name.as_ref().map(|n| n.as_str().to_owned()),
                phone: c.phone.as_ref().map(|p| p.as_str().to_owned()),
                email: c.email.as_ref().map(|e| e.as_str().to_owned()),
                consent_sms: c.consent.sms,
                consent_whatsapp: c.consent.whatsapp,
                consent_email: c.consent.email,
                consent_push: c.consent.push,
                language: c.language.map(|l| l.as_str().to_owned()),
                created_at: naive(c.created_at),
                updated_at: naive(c.updated_at),
            })
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn update_customer(&mut self, c: &Customer) -> Result<bool, StoreError> {
        update!(
            self,
            customers,
            c.id,
            (
                customers::name.eq(c.name.as_ref().map(ItemName::as_str)),
                customers::phone.eq(c.phone.as_ref().map(Phone::as_str)),
                customers::email.eq(c.email.as_ref().map(Email::as_str)),
                customers::consent_sms.eq(c.consent.sms),
                customers::consent_whatsapp.eq(c.consent.whatsapp),
                customers::consent_email.eq(c.consent.email),
                customers::consent_push.eq(c.consent.push),
                customers::language.eq(c.language.map(Language::as_str)),
                customers::updated_at.eq(naive(c.updated_at)),
            )
        )
    }

    fn delete_customer(&mut self, id: Uuid) -> Result<bool, StoreError> {
        self.writable()?;
        self.bind()?;
        let n = diesel::delete(
            customers::table
                .filter(customers::tenant_id.eq(self.tenant.to_string()))
                .filter(customers::id.eq(id.to_string())),
        )
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n > 0)
    }
}
