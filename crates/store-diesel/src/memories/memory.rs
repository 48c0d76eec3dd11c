//! Memories and their timeline in SQL.
//!
//! A memory's photo is spread over columns (one group per rendition) rather than a table of
//! its own: a memory has at most one photo and its renditions are always read together.

use crate::one::OneRow;
use accueil_domain::couples::CoupleId;
use accueil_domain::identity::UserId;
use accueil_domain::memories::{
    ImageFormat, Memory, MemoryDescription, MemoryId, MemoryTitle, Photo, Rendition,
};
use accueil_ports::StoreError;
use accueil_ports::memories::{LinkedMemory, MemoriesRepo, TimelineQuery};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::{couples, memories, photo_link_keys, share_memories};
use crate::tx::{DieselTx, all, naive, store_error, utc, uuid};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = memories, treat_none_as_null = true)]
struct MemoryRow {
    id: String,
    couple_id: String,
    title: String,
    description: Option<String>,
    happened_on: Option<NaiveDate>,
    recorded_on: NaiveDate,
    timeline_day: NaiveDate,
    search_text: String,
    photo_id: Option<String>,
    photo_format: Option<String>,
    photo_width: Option<i32>,
    photo_height: Option<i32>,
    photo_bytes: Option<i64>,
    medium_format: Option<String>,
    medium_width: Option<i32>,
    medium_height: Option<i32>,
    medium_bytes: Option<i64>,
    thumb_format: Option<String>,
    thumb_width: Option<i32>,
    thumb_height: Option<i32>,
    thumb_bytes: Option<i64>,
    created_by: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

type RenditionColumns = (Option<String>, Option<i32>, Option<i32>, Option<i64>);

fn rendition_columns(r: Option<Rendition>) -> RenditionColumns {
    match r {
        Some(r) => (
            Some(r.format.as_str().to_owned()),
            i32::try_from(r.width).ok(),
            i32::try_from(r.height).ok(),
            i64::try_from(r.bytes).ok(),
        ),
        None => (None, None, None, None),
    }
}

fn rendition(cols: RenditionColumns) -> Result<Rendition, StoreError> {
    let corrupt = || StoreError::Internal("corrupt photo columns".into());
    let (Some(format), Some(width), Some(height), Some(bytes)) = cols else {
        return Err(corrupt());
    };
    Ok(Rendition {
        format: ImageFormat::parse(&format).ok_or_else(corrupt)?,
        width: u32::try_from(width).map_err(|_| corrupt())?,
        height: u32::try_from(height).map_err(|_| corrupt())?,
        bytes: u64::try_from(bytes).map_err(|_| corrupt())?,
    })
}

impl From<&Memory> for MemoryRow {
    fn from(m: &Memory) -> Self {
        let photo = m.photo.as_ref();
        let (photo_format, photo_width, photo_height, photo_bytes) =
            rendition_columns(photo.map(|p| p.original));
        let (medium_format, medium_width, medium_height, medium_bytes) =
            rendition_columns(photo.map(|p| p.medium));
        let (thumb_format, thumb_width, thumb_height, thumb_bytes) =
            rendition_columns(photo.map(|p| p.thumb));
        Self {
            id: m.id.0.to_string(),
            couple_id: m.couple_id.to_string(),
            title: m.title.as_str().to_owned(),
            description: m.description.as_ref().map(|d| d.as_str().to_owned()),
            happened_on: m.happened_on,
            recorded_on: m.recorded_on,
            timeline_day: m.timeline_day(),
            search_text: m.search_text(),
            photo_id: photo.map(|p| p.id.to_string()),
            photo_format,
            photo_width,
            photo_height,
            photo_bytes,
            medium_format,
            medium_width,
            medium_height,
            medium_bytes,
            thumb_format,
            thumb_width,
            thumb_height,
            thumb_bytes,
            created_by: m.created_by.to_string(),
            created_at: naive(m.created_at),
            updated_at: naive(m.updated_at),
        }
    }
}

impl TryFrom<MemoryRow> for Memory {
    type Error = StoreError;
    fn try_from(r: MemoryRow) -> Result<Self, StoreError> {
        let photo = match r.photo_id {
            Some(id) => Some(Photo {
                id: uuid(&id)?,
                original: rendition((
                    r.photo_format,
                    r.photo_width,
                    r.photo_height,
                    r.photo_bytes,
                ))?,
                medium: rendition((
                    r.medium_format,
                    r.medium_width,
                    r.medium_height,
                    r.medium_bytes,
                ))?,
                thumb: rendition((r.thumb_format, r.thumb_width, r.thumb_height, r.thumb_bytes))?,
            }),
            None => None,
        };
        Ok(Memory {
            id: MemoryId(uuid(&r.id)?),
            couple_id: CoupleId(uuid(&r.couple_id)?),
            title: MemoryTitle::from_trusted(r.title),
            description: r.description.map(MemoryDescription::from_trusted),
            happened_on: r.happened_on,
            recorded_on: r.recorded_on,
            photo,
            created_by: UserId(uuid(&r.created_by)?),
            created_at: utc(r.created_at),
            updated_at: utc(r.updated_at),
        })
    }
}

impl MemoriesRepo for DieselTx<'_> {
    fn insert_memory(&mut self, memory: &Memory) -> Result<(), StoreError> {
        self.writable()?;
        diesel::insert_into(memories::table)
            .values(MemoryRow::from(memory))
            .execute(self.conn)
            .map_err(store_error)?;
        Ok(())
    }

    fn update_memory(&mut self, memory: &Memory) -> Result<bool, StoreError> {
        self.writable()?;
        let row = MemoryRow::from(memory);
        let n = diesel::update(
            memories::table
                .filter(memories::id.eq(&row.id))
                .filter(memories::couple_id.eq(&row.couple_id)),
        )
        .set((
            memories::title.eq(&row.title),
            memories::description.eq(&row.description),
            memories::happened_on.eq(row.happened_on),
            memories::timeline_day.eq(row.timeline_day),
            memories::search_text.eq(&row.search_text),
            memories::photo_id.eq(&row.photo_id),
            memories::photo_format.eq(&row.photo_format),
            memories::photo_width.eq(row.photo_width),
            memories::photo_height.eq(row.photo_height),
            memories::photo_bytes.eq(row.photo_bytes),
            memories::medium_format.eq(&row.medium_format),
            memories::medium_width.eq(row.medium_width),
            memories::medium_height.eq(row.medium_height),
            memories::medium_bytes.eq(row.medium_bytes),
            memories::thumb_format.eq(&row.thumb_format),
            memories::thumb_width.eq(row.thumb_width),
            memories::thumb_height.eq(row.thumb_height),
            memories::thumb_bytes.eq(row.thumb_bytes),
            memories::updated_at.eq(row.updated_at),
        ))
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n > 0)
    }

    fn memory(&mut self, couple: CoupleId, id: MemoryId) -> Result<Option<Memory>, StoreError> {
        // A memory read to be changed is locked until commit: two concurrent changes (a photo
        // replaced while the title is edited, a delete racing a replace) run one after the
        // other instead of the second undoing the first.
        memories::table
            .filter(memories::id.eq(id.0.to_string()))
            .filter(memories::couple_id.eq(couple.to_string()))
            .select(MemoryRow::as_select())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?
            .map(Memory::try_from)
            .transpose()
    }

    fn delete_memory(&mut self, couple: CoupleId, id: MemoryId) -> Result<bool, StoreError> {
        self.writable()?;
        let n = diesel::delete(
            memories::table
                .filter(memories::id.eq(id.0.to_string()))
                .filter(memories::couple_id.eq(couple.to_string())),
        )
        .execute(self.conn)
        .map_err(store_error)?;
        Ok(n > 0)
    }

    fn timeline(
        &mut self,
        couple: CoupleId,
        query: &TimelineQuery,
        limit: u32,
    ) -> Result<Vec<Memory>, StoreError> {
        let mut q = memories::table
            .filter(memories::couple_id.eq(couple.to_string()))
            .order((memories::timeline_day.desc(), memories::id.desc()))
            .limit(i64::from(limit))
            .select(MemoryRow::as_select())
            .into_boxed();
        if let Some(c) = query.after {
            let id = c.id.0.to_string();
            q = q.filter(
                memories::timeline_day
                    .lt(c.day)
                    .or(memories::timeline_day.eq(c.day).and(memories::id.lt(id))),
            );
        }
        if let Some(term) = &query.search {
            // LIKE's wildcards in the term are matched literally.
            let escaped = term
                .as_str()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            q = q.filter(
                memories::search_text
                    .like(format!("%{escaped}%"))
                    .escape('\\'),
            );
        }
        if let Some(share) = query.share {
            q = q.filter(
                memories::id.eq_any(
                    share_memories::table
                        .filter(share_memories::share_id.eq(share.0.to_string()))
                        .select(share_memories::memory_id),
                ),
            );
        }
        all(q.load(self.conn).map_err(store_error)?)
    }

    fn existing_memories(
        &mut self,
        couple: CoupleId,
        ids: &[MemoryId],
    ) -> Result<Vec<MemoryId>, StoreError> {
        let wanted: Vec<String> = ids.iter().map(|i| i.0.to_string()).collect();
        let mut found = Vec::new();
        // Bounded batches keep the statement under SQLite's variable limit.
        for chunk in wanted.chunks(500) {
            let rows: Vec<String> = memories::table
                .filter(memories::couple_id.eq(couple.to_string()))
                .filter(memories::id.eq_any(chunk))
                .select(memories::id)
                .load(self.conn)
                .map_err(store_error)?;
            for r in rows {
                found.push(MemoryId(uuid(&r)?));
            }
        }
        Ok(found)
    }

    fn photo_link_generation(&mut self, couple: CoupleId) -> Result<u64, StoreError> {
        let stored: Option<i64> = photo_link_keys::table
            .find(couple.to_string())
            .select(photo_link_keys::generation)
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?;
        generation(stored.unwrap_or(0))
    }

    fn rotate_photo_links(&mut self, couple: CoupleId) -> Result<u64, StoreError> {
        self.writable()?;
        // The caller holds the couple's lock (a write unit in its scope), so reading then
        // writing cannot lose a concurrent bump; an upsert would need a statement the
        // multi-backend connection does not offer.
        let next = self.photo_link_generation(couple)? + 1;
        let stored = i64::try_from(next)
            .map_err(|_| StoreError::Internal("photo link generation overflow".into()))?;
        let n = diesel::update(photo_link_keys::table.find(couple.to_string()))
            .set(photo_link_keys::generation.eq(stored))
            .execute(self.conn)
            .map_err(store_error)?;
        if n == 0 {
            diesel::insert_into(photo_link_keys::table)
                .values((
                    photo_link_keys::couple_id.eq(couple.to_string()),
                    photo_link_keys::generation.eq(stored),
                ))
                .execute(self.conn)
                .map_err(store_error)?;
        }
        Ok(next)
    }

    fn memory_for_link(&mut self, id: MemoryId) -> Result<Option<LinkedMemory>, StoreError> {
        let Some(row) = memories::table
            .find(id.0.to_string())
            .select(MemoryRow::as_select())
            .one()
            .get_result(self.conn)
            .optional()
            .map_err(store_error)?
        else {
            return Ok(None);
        };
        let memory = Memory::try_from(row)?;
        let dissolved: Option<NaiveDateTime> = couples::table
            .find(memory.couple_id.to_string())
            .select(couples::dissolved_at)
            .one()
            .get_result(self.conn)
            .map_err(store_error)?;
        let generation = self.photo_link_generation(memory.couple_id)?;
        Ok(Some(LinkedMemory {
            memory,
            generation,
            dissolved: dissolved.is_some(),
        }))
    }
}

fn generation(stored: i64) -> Result<u64, StoreError> {
    u64::try_from(stored).map_err(|_| StoreError::Internal("negative photo link generation".into()))
}
